import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");

export type ProcessKind = "ws-node" | "presence-node" | "http-api" | "nginx";

/** One process the cluster wants: what `up` and `scale` ask the supervisor for (spec.json). */
export interface WantedProcess {
  name: string;
  kind: ProcessKind;
  port: number;
  /** ws-node replicas: their index in ws-node-<index>. */
  index?: number;
  /** Raised by `scale` to have a dead process started again now, whatever its backoff. */
  epoch?: number;
}

/** How a process ended, as its parent saw it (code and signal are null when it was not our child). */
export interface ExitInfo {
  at: string;
  code: number | null;
  signal: string | null;
  /** Seconds it had run. */
  ranSec: number;
}

/**
 * starting: spawned, /readyz not yet answered; running: answered once since it started (a ws-node
 * is then in nginx); backoff: exited, to be started again at `nextStartAt`; stopping: no longer
 * wanted, draining.
 */
export type Phase = "starting" | "running" | "backoff" | "stopping";

/** One process the supervisor runs (state.json). */
export interface ClusterProcess extends WantedProcess {
  /** The current (or last) pid; 0 before the first start. */
  pid: number;
  /** Base URL of its own port (health, metrics). */
  url: string;
  log: string;
  phase?: Phase;
  /** Starts after the first, each after the process exited on its own. */
  restarts?: number;
  lastExit?: ExitInfo;
  nextStartAt?: string;
  /** Since when it has not answered its liveness probe (a ws-node is then out of nginx). */
  unresponsiveSince?: string;
}

/** What `up` asked for: written by the CLI only, read by the supervisor. */
export interface ClusterSpec {
  dir: string;
  basePort: number;
  /** Environment every app process shares (service URLs, JWT secret, settings from the caller). */
  env: Record<string, string>;
  startedAt: string;
  want: WantedProcess[];
  /** nginx's limit of open connections per client address (CHATTALK_NGINX_CONNS_PER_IP at `up`). */
  connsPerIp?: number;
}

/** What runs: written by the supervisor only (and by `down` when no supervisor is left). */
export interface ClusterState {
  dir: string;
  basePort: number;
  env: Record<string, string>;
  processes: ClusterProcess[];
  startedAt: string;
  supervisor?: { pid: number; startedAt: string };
  /** ws-node ports nginx currently sends connections to. */
  upstream?: number[];
  /** Processes that were no longer wanted and have gone, most recent last. */
  departed?: { name: string; pid: number; clean: boolean; at: string }[];
}

/** Where a cluster keeps its state, data, logs, nginx config and web files. */
export function clusterPaths(dir: string) {
  return {
    dir,
    state: join(dir, "state.json"),
    spec: join(dir, "spec.json"),
    logs: join(dir, "logs"),
    supervisorLog: join(dir, "logs", "supervisor.log"),
    data: join(dir, "data"),
    nginx: join(dir, "nginx"),
    web: join(dir, "web"),
    lock: join(dir, "lock"),
  };
}

export function defaultDir(): string {
  return process.env.CHATTALK_CLUSTER_DIR ?? join(REPO, ".services", "cluster");
}

export function loadState(dir: string): ClusterState | undefined {
  const file = clusterPaths(dir).state;
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as ClusterState;
}

export function loadSpec(dir: string): ClusterSpec | undefined {
  const file = clusterPaths(dir).spec;
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as ClusterSpec;
}

/** Written atomically and readable only by its owner: both files hold the cluster's JWT secret. */
function writePrivate(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
  renameSync(`${file}.tmp`, file);
}

export function saveState(state: ClusterState): void {
  mkdirSync(state.dir, { recursive: true });
  writePrivate(clusterPaths(state.dir).state, state);
}

export function saveSpec(spec: ClusterSpec): void {
  mkdirSync(spec.dir, { recursive: true });
  writePrivate(clusterPaths(spec.dir).spec, spec);
}

const KIND_ORDER: ProcessKind[] = ["http-api", "presence-node", "ws-node", "nginx"];

/** Processes in the order tables show them: http-api, presence-node, ws-node-1.., nginx. */
export const ordered = (s: ClusterState) =>
  [...s.processes].sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.index ?? 0) - (b.index ?? 0),
  );

export const wsNodes = (s: ClusterState) =>
  s.processes.filter((p) => p.kind === "ws-node").sort((a, b) => (a.index ?? 0) - (b.index ?? 0));

/**
 * Port layout from the base port: nginx, http-api, presence-node, the supervisor's aggregate health,
 * then ws-node replicas from base+10.
 */
export const ports = {
  nginx: (base: number) => base,
  api: (base: number) => base + 1,
  presence: (base: number) => base + 2,
  health: (base: number) => base + 3,
  ws: (base: number, index: number) => base + 10 + index,
};
