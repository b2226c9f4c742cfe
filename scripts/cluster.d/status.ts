import { BACKLOG_WRITER_GROUP } from "../../lib/backlog/writer.ts";
import { parseConfig } from "../../lib/config/index.ts";
import {
  backlogWriterLagProbe,
  type ConsumerLag,
  parseExposition,
  sumSamples,
} from "../../lib/metrics/index.ts";
import { isAlive, probe, supervisorAlive } from "./procs.ts";
import { type ClusterProcess, type ClusterState, type ExitInfo, ordered, ports } from "./state.ts";

/**
 * ready: answers /readyz; unavailable: answers 503 (a dependency is down); starting; restarting:
 * exited, waiting out its backoff; unresponsive: alive but not answering (out of nginx); stopping;
 * down: not running and not being restarted (no supervisor).
 */
export type Health =
  | "ready"
  | "unavailable"
  | "starting"
  | "restarting"
  | "unresponsive"
  | "stopping"
  | "down";

/** Live figures of one process. Counters are totals since that process started. */
export interface ProcessStatus {
  name: string;
  pid: number;
  port: number;
  url: string;
  alive: boolean;
  health: Health;
  /** Times the supervisor started it again after it exited on its own. */
  restarts: number;
  lastExit?: ExitInfo;
  connections?: number;
  /** SEND frames received. */
  messagesIn?: number;
  /** MESSAGE frames sent (live fan-out, replays and notices). */
  messagesOut?: number;
}

export interface ClusterStatus {
  url: string;
  supervisor: { pid: number; alive: boolean } | undefined;
  /** ws-node ports nginx sends clients to. */
  upstream: number[];
  processes: ProcessStatus[];
  /** The backlog writers' Kafka consumer group, when Kafka is configured. */
  lagGroup?: string;
  lag?: ConsumerLag;
  lagError?: string;
}

async function one(p: ClusterProcess, supervised: boolean): Promise<ProcessStatus> {
  const alive = p.pid > 0 && isAlive(p);
  const base: ProcessStatus = {
    name: p.name,
    pid: p.pid,
    port: p.port,
    url: p.url,
    alive,
    health: "down",
    restarts: p.restarts ?? 0,
    ...(p.lastExit ? { lastExit: p.lastExit } : {}),
  };
  if (!alive) return { ...base, health: supervised && p.phase !== "stopping" ? "restarting" : "down" };
  if (p.phase === "stopping") return { ...base, health: "stopping" };
  if (p.kind === "nginx") {
    const res = await probe(`${p.url}/nginx-health`);
    const stub = await probe(`${p.url}/nginx-status`);
    const active = stub?.ok ? /Active connections:\s*(\d+)/.exec(await stub.text())?.[1] : undefined;
    return {
      ...base,
      health: res?.ok ? "ready" : "unavailable",
      connections: active === undefined ? undefined : Number(active),
    };
  }
  const [ready, metrics] = await Promise.all([probe(`${p.url}/readyz`), probe(`${p.url}/metrics`)]);
  const answered: Health = ready ? (ready.ok ? "ready" : "unavailable") : "unresponsive";
  const status: ProcessStatus = {
    ...base,
    health: p.phase === "starting" && !ready?.ok ? "starting" : answered,
  };
  if (metrics?.ok && p.kind !== "http-api") {
    const s = parseExposition(await metrics.text());
    status.connections = sumSamples(s, "chattalk_stomp_connections");
    status.messagesIn = sumSamples(s, "chattalk_stomp_frames_in_total", { command: "SEND" });
    status.messagesOut = sumSamples(s, "chattalk_stomp_frames_out_total", { command: "MESSAGE" });
  }
  return status;
}

/** Health, connections and message counts of every process, and the backlog writer's Kafka lag. */
export async function clusterStatus(state: ClusterState): Promise<ClusterStatus> {
  const config = parseConfig(state.env);
  const lagProbe = backlogWriterLagProbe(config);
  const supervised = supervisorAlive(state);
  const [processes, lag] = await Promise.all([
    Promise.all(ordered(state).map((p) => one(p, supervised))),
    lagProbe.measure().then(
      (l) => ({ lag: l }),
      (err) => ({ lagError: String(err instanceof Error ? err.message : err) }),
    ),
  ]);
  await lagProbe.close();
  return {
    url: `http://127.0.0.1:${ports.nginx(state.basePort)}/`,
    supervisor: state.supervisor ? { pid: state.supervisor.pid, alive: supervised } : undefined,
    upstream: state.upstream ?? [],
    processes,
    lagGroup: lagProbe.group,
    ...lag,
  };
}

/** Every process ready and a supervisor watching them. */
export function statusOk(s: ClusterStatus): boolean {
  return s.supervisor?.alive === true && s.processes.every((p) => p.health === "ready");
}

/** "SIGKILL 12s ago", "code 1 3m ago". */
export function formatExit(e: ExitInfo | undefined, now = Date.now()): string {
  if (!e) return "-";
  const how = e.signal ?? (e.code === null ? "exited" : `code ${e.code}`);
  const ago = Math.max(0, Math.round((now - Date.parse(e.at)) / 1000));
  const when = ago < 120 ? `${ago}s` : ago < 7200 ? `${Math.round(ago / 60)}m` : `${Math.round(ago / 3600)}h`;
  return `${how} ${when} ago`;
}

const cell = (v: number | string | undefined) => (v === undefined ? "-" : String(v));

/** A plain-text table, columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export function formatStatus(s: ClusterStatus, now = Date.now()): string {
  const rows = s.processes.map((p) => [
    p.name,
    String(p.pid),
    String(p.port),
    p.health,
    String(p.restarts),
    formatExit(p.lastExit, now),
    cell(p.connections),
    cell(p.messagesIn),
    cell(p.messagesOut),
    p.url,
  ]);
  const header = [
    "NAME",
    "PID",
    "PORT",
    "HEALTH",
    "RESTARTS",
    "LAST EXIT",
    "CONNS",
    "MSGS IN",
    "MSGS OUT",
    "URL",
  ];
  const table = formatTable(header, rows);
  const supervisor = !s.supervisor
    ? "supervisor: none"
    : s.supervisor.alive
      ? `supervisor: pid ${s.supervisor.pid}, restarting what exits; nginx sends clients to ${s.upstream.length > 0 ? s.upstream.join(", ") : "no live ws-node"}`
      : `supervisor: pid ${s.supervisor.pid} is gone, nothing is restarted (scripts/cluster scale N or rebalance starts a new one)`;
  const lag = s.lag
    ? `kafka lag of ${s.lag.group} on ${s.lag.topic}: ${s.lag.total} (${s.lag.partitions.map((p) => `p${p.partition}=${p.lag}`).join(" ")})`
    : `kafka lag of ${s.lagGroup ?? BACKLOG_WRITER_GROUP}: ${s.lagError ? `unknown (${s.lagError})` : "no Kafka configured"}`;
  return `${table}\n${supervisor}\n${lag}\nopen ${s.url}`;
}

/** The table `up` prints: what runs where. */
export function formatProcesses(state: ClusterState): string {
  return formatTable(
    ["NAME", "PID", "PORT", "URL", "LOG"],
    ordered(state).map((p) => [p.name, String(p.pid), String(p.port), p.url, p.log]),
  );
}
