import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");

export type ProcessKind = "ws-node" | "presence-node" | "http-api" | "nginx";

/** One process `up` or `scale` started. */
export interface ClusterProcess {
  name: string;
  kind: ProcessKind;
  pid: number;
  port: number;
  /** Base URL of its own port (health, metrics). */
  url: string;
  log: string;
  /** ws-node replicas: their index in ws-node-<index>. */
  index?: number;
}

/** What `up` started, so later invocations (status, scale, down) find it. */
export interface ClusterState {
  dir: string;
  basePort: number;
  /** Environment every app process shares (service URLs, JWT secret, settings from the caller). */
  env: Record<string, string>;
  processes: ClusterProcess[];
  startedAt: string;
}

/** Where a cluster keeps its state, data, logs, nginx config and web files. */
export function clusterPaths(dir: string) {
  return {
    dir,
    state: join(dir, "state.json"),
    logs: join(dir, "logs"),
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

/** Written atomically and readable only by its owner: it holds the cluster's JWT secret. */
export function saveState(state: ClusterState): void {
  const file = clusterPaths(state.dir).state;
  mkdirSync(state.dir, { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
  renameSync(`${file}.tmp`, file);
}

const KIND_ORDER: ProcessKind[] = ["http-api", "presence-node", "ws-node", "nginx"];

/** Processes in the order tables show them: http-api, presence-node, ws-node-1.., nginx. */
export const ordered = (s: ClusterState) =>
  [...s.processes].sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.index ?? 0) - (b.index ?? 0),
  );

export const wsNodes = (s: ClusterState) =>
  s.processes.filter((p) => p.kind === "ws-node").sort((a, b) => (a.index ?? 0) - (b.index ?? 0));

/** Port layout from the base port: nginx, http-api, presence-node, then ws-node replicas from base+10. */
export const ports = {
  nginx: (base: number) => base,
  api: (base: number) => base + 1,
  presence: (base: number) => base + 2,
  ws: (base: number, index: number) => base + 10 + index,
};
