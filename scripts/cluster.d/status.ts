import { BACKLOG_WRITER_GROUP } from "../../lib/backlog/writer.ts";
import { parseConfig } from "../../lib/config/index.ts";
import {
  backlogWriterLagProbe,
  type ConsumerLag,
  parseExposition,
  sumSamples,
} from "../../lib/metrics/index.ts";
import { isAlive, probe } from "./procs.ts";
import { type ClusterProcess, type ClusterState, ordered, ports } from "./state.ts";

/** Live figures of one process. Counters are totals since that process started. */
export interface ProcessStatus {
  name: string;
  pid: number;
  port: number;
  url: string;
  alive: boolean;
  health: "ready" | "unavailable" | "down";
  connections?: number;
  /** SEND frames received. */
  messagesIn?: number;
  /** MESSAGE frames sent (live fan-out, replays and notices). */
  messagesOut?: number;
}

export interface ClusterStatus {
  url: string;
  processes: ProcessStatus[];
  lag?: ConsumerLag;
  lagError?: string;
}

async function one(p: ClusterProcess): Promise<ProcessStatus> {
  const alive = isAlive(p);
  const base: ProcessStatus = { name: p.name, pid: p.pid, port: p.port, url: p.url, alive, health: "down" };
  if (!alive) return base;
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
  const status: ProcessStatus = { ...base, health: ready ? (ready.ok ? "ready" : "unavailable") : "down" };
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
  const [processes, lag] = await Promise.all([
    Promise.all(ordered(state).map(one)),
    lagProbe?.measure().then(
      (l) => ({ lag: l }),
      (err) => ({ lagError: String(err instanceof Error ? err.message : err) }),
    ),
  ]);
  await lagProbe?.close();
  return { url: `http://127.0.0.1:${ports.nginx(state.basePort)}/`, processes, ...lag };
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

export function formatStatus(s: ClusterStatus): string {
  const rows = s.processes.map((p) => [
    p.name,
    String(p.pid),
    String(p.port),
    p.alive ? p.health : "exited",
    cell(p.connections),
    cell(p.messagesIn),
    cell(p.messagesOut),
    p.url,
  ]);
  const table = formatTable(["NAME", "PID", "PORT", "HEALTH", "CONNS", "MSGS IN", "MSGS OUT", "URL"], rows);
  const lag = s.lag
    ? `kafka lag of ${s.lag.group} on ${s.lag.topic}: ${s.lag.total} (${s.lag.partitions.map((p) => `p${p.partition}=${p.lag}`).join(" ")})`
    : `kafka lag of ${BACKLOG_WRITER_GROUP}: ${s.lagError ? `unknown (${s.lagError})` : "no Kafka configured"}`;
  return `${table}\n${lag}\nopen ${s.url}`;
}

/** The table `up` prints: what runs where. */
export function formatProcesses(state: ClusterState): string {
  return formatTable(
    ["NAME", "PID", "PORT", "URL", "LOG"],
    ordered(state).map((p) => [p.name, String(p.pid), String(p.port), p.url, p.log]),
  );
}
