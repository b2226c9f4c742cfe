/**
 * Soak: the 3-replica cluster (scripts/cluster, on a private set of services: scripts/faults.d/stack.ts)
 * for 10 minutes at 50 msg/s over 100 rooms and 500 connections, 5 % of them reconnecting every 30 s,
 * driven and checked by the load generator. Per minute: live end-to-end p50/p99 and the RSS of every
 * process. "Flat" = the last minute within 1.5× of the second minute, for latency and for memory.
 * `bun run bench soak` (SOAK_MINUTES=N for a shorter try); it also rewrites its own section of
 * docs/benchmarks.md, since a named benchmark does not rewrite the document.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SERVICES, startStack } from "../scripts/faults.d/stack.ts";
import { type LoadReport, type Progress, runLoad } from "../scripts/loadgen.d/run.ts";
import { percentile } from "../scripts/loadgen.d/stats.ts";
import { writeSection } from "./support/doc-section.ts";

export const SOAK_TITLE = "### Soak (3 replicas, 10 minutes)";
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const FLAT = 1.5;

interface Minute {
  minute: number;
  p50: number;
  p99: number;
  deliveries: number;
  rss: Record<string, number>;
}

function rssMiB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Math.round((Number(kb) / 1024) * 10) / 10 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Every process of the stack, by name: the cluster's (from its state) and the services' (pid files). */
function processes(clusterDir: string, servicesDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const state = JSON.parse(readFileSync(join(clusterDir, "state.json"), "utf8")) as {
    processes: { name: string; pid: number }[];
  };
  for (const p of state.processes) out[p.name] = p.pid;
  for (const svc of SERVICES) {
    const file = join(servicesDir, "run", `${svc}.pid`);
    if (existsSync(file)) out[svc] = Number(readFileSync(file, "utf8").trim());
  }
  return out;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");

export function soakReport(minutes: Minute[], load: LoadReport, names: string[]): string {
  const second = minutes[1];
  const last = minutes.at(-1);
  const head = ["minute", "deliveries", "p50 ms", "p99 ms", ...names.map((n) => `${n} MiB`)];
  const rows = minutes.map((m) => [
    String(m.minute),
    String(m.deliveries),
    fmt(m.p50),
    fmt(m.p99),
    ...names.map((n) => fmt(m.rss[n] ?? Number.NaN)),
  ]);
  const flat: string[] = [];
  const grew: string[] = [];
  if (second && last) {
    const judge = (what: string, a: number, b: number) => {
      const r = ratio(a, b);
      (r <= FLAT ? flat : grew).push(`${what} ${fmt(b)} → ${fmt(a)} (${fmt(r)}×)`);
    };
    judge("p50", last.p50, second.p50);
    judge("p99", last.p99, second.p99);
    for (const n of names) judge(`${n} RSS`, last.rss[n] ?? Number.NaN, second.rss[n] ?? Number.NaN);
  }
  const c = load.check;
  return [
    SOAK_TITLE,
    "",
    `\`bun run bench soak\`: \`scripts/cluster up --replicas 3\` on a private set of services (scripts/faults.d/stack.ts),`,
    `driven by the load generator through nginx: ${load.options.users} users, ${load.options.rooms} rooms × ${load.options.members} members (500 connections),`,
    `${load.options.rate} msg/s, ${Math.round(load.options.churn * 100)} % of the connections leaving and coming back every ${load.options.churnEverySec} s`,
    `(half with DISCONNECT, half by cutting the socket), ${load.runSec} s of sending. Latency: live deliveries only (replays after a`,
    "reconnect excluded), first send → arrival at each member, per minute. RSS: VmRSS of each process's main pid",
    "(Postgres: the postmaster only). Flat = the last minute within 1.5× of the second minute.",
    "",
    `| ${head.join(" | ")} |`,
    `| ${head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    grew.length === 0
      ? `**Flat**: every figure's last minute is within ${FLAT}× of its second minute.`
      : `**Not flat**: ${grew.join("; ")}.`,
    flat.length > 0 ? `Within ${FLAT}×: ${flat.join("; ")}.` : "",
    "",
    `Checker: sent ${load.sent}, receipted ${load.receipted}, not delivered by the end of the drain (${load.drainSec} s after the`,
    `last send) ${c.lost}, duplicates ${c.duplicates}, written twice ${c.writtenTwice}, reordered ${c.reordered}, history problems`,
    `${c.historyProblems} (in ${load.options.historyRooms || load.options.rooms} rooms: messages not yet in the history when it was read), redelivered after a cut socket ${c.redelivered} (allowed);`,
    `whole-run latency p50 ${load.liveLatencyMs.p50} ms / p99 ${load.liveLatencyMs.p99} ms (live), ${load.latencyMs.p99} ms p99 with replays, p99 ${load.acceptedLatencyMs.p99} ms / max ${load.acceptedLatencyMs.max} ms live from the accepted attempt;`,
    `presence ${load.presence ? `${load.presence.converged}/${load.presence.rooms} rooms within ${load.presence.maxSec} s` : "not checked"}.`,
    "",
  ].join("\n");
}

export default async function soak(): Promise<string> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const run = `soak${Date.now().toString(36)}`;
  const stack = await startStack({ run, proxied: false, replicas: 3, settings: { LOG_LEVEL: "warn" }, say });
  try {
    const minutes: Minute[] = [];
    let bucket: number[] = [];
    let deliveries = 0;
    let runStart = 0;
    let names: string[] = [];
    const load = await runLoad({
      url: stack.url,
      users: 500,
      rooms: 100,
      members: 5,
      rate: 50,
      durationSec: MINUTES * 60,
      churn: 0.05,
      churnEverySec: 30,
      kill: 0.5,
      stored: 0.2,
      presenceRooms: 10,
      history: true,
      // A history page costs seconds on FerretDB (issue 10): ten rooms' history is checked, not all.
      historyRooms: 10,
      seed: 10,
      prefix: run,
      say: (line) => {
        if (!line.includes("s  conns") || line.includes("0s  conns")) say(line);
      },
      onStart: () => {
        runStart = performance.now();
      },
      onSecond: (p: Progress) => {
        bucket.push(...p.recent);
        deliveries += p.deliveredPerSec;
        const minute = Math.floor((performance.now() - runStart) / 60_000);
        if (minute > minutes.length && minutes.length < MINUTES) {
          const sorted = bucket.sort((a, b) => a - b);
          const pids = processes(stack.clusterDir, stack.servicesEnv.CHATTALK_SERVICES_DIR!);
          names = Object.keys(pids);
          const m: Minute = {
            minute: minutes.length + 1,
            p50: percentile(sorted, 0.5),
            p99: percentile(sorted, 0.99),
            deliveries,
            rss: Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, rssMiB(pid)])),
          };
          minutes.push(m);
          say(
            `[soak] minute ${m.minute}: p50 ${fmt(m.p50)} ms, p99 ${fmt(m.p99)} ms, ${deliveries} deliveries, RSS ${Object.entries(
              m.rss,
            )
              .map(([n, r]) => `${n} ${fmt(r)}`)
              .join(", ")}`,
          );
          bucket = [];
          deliveries = 0;
        }
      },
    });
    const section = soakReport(minutes, load, names);
    writeSection(SOAK_TITLE, section);
    return section;
  } finally {
    await stack.stop();
  }
}

if (import.meta.main) console.log(await soak());
