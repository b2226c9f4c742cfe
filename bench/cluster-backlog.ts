/**
 * Issue 10's cluster run, on a filled backlog (opt-in: `bun run bench cluster-backlog`): a 3-replica
 * scripts/cluster on a private set of services (scripts/faults.d/stack.ts), 20 STOMP clients through
 * nginx sending 30 msg/s with receipts, members leaving and coming back, one ws-node killed (-9) and
 * the cluster scaled 3 → 4 → 3 while it runs. The same run twice on the same cluster: first on an empty
 * backlog, then after scripts/seed-backlog has written CLUSTER_BACKLOG_MESSAGES (default 1,000,000)
 * messages over 1,000 other rooms. Each run uses rooms of its own; the checker (scripts/loadgen.d)
 * verifies every message of every room. CLUSTER_BACKLOG_SECONDS sets each run's sending time (180).
 */
import { join } from "node:path";
import { pidOf } from "../scripts/faults.d/inject.ts";
import { type Stack, startStack } from "../scripts/faults.d/stack.ts";
import { type LoadReport, type Progress, runLoad } from "../scripts/loadgen.d/run.ts";
import { percentile } from "../scripts/loadgen.d/stats.ts";
import { loadNote, writeSection } from "./support/doc-section.ts";

const TITLE = "### Cluster on a filled backlog (3 replicas, kill -9 and scaling, issue 10)";
const STORED = Number(process.env.CLUSTER_BACKLOG_MESSAGES ?? 1_000_000);
const SECONDS = Number(process.env.CLUSTER_BACKLOG_SECONDS ?? 180);
const WINDOW_SEC = 30;
const TARGET_P99_MS = 100;

const say = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
const int = (n: number) => n.toLocaleString("en-US");

interface Phase {
  label: string;
  stored: number;
  load: LoadReport;
  /** Live p99 per WINDOW_SEC of sending. */
  windows: number[];
  events: string[];
}

/** kill -9 of ws-node-2 at a third of the run, scale to 4 at half, back to 3 at three quarters. */
async function disturb(stack: Stack, started: number, stopped: () => boolean, events: string[]) {
  const at = async (fraction: number, what: string, act: () => Promise<string>) => {
    const due = started + fraction * SECONDS * 1000;
    while (performance.now() < due) {
      if (stopped()) return;
      await Bun.sleep(200);
    }
    const t = performance.now();
    const outcome = await act();
    events.push(
      `${((t - started) / 1000).toFixed(0)} s: ${what} (${outcome}, ${((performance.now() - t) / 1000).toFixed(1)} s)`,
    );
    say(`[cluster-backlog] ${events.at(-1)}`);
  };
  await at(1 / 3, "kill -9 ws-node-2", async () => {
    const pid = pidOf(stack, "ws-node-2");
    if (!pid) return "no pid";
    process.kill(pid, "SIGKILL");
    return `pid ${pid}; the supervisor restarts it`;
  });
  await at(1 / 2, "scripts/cluster scale 4", async () => `exit ${(await stack.cluster("scale", "4")).code}`);
  await at(3 / 4, "scripts/cluster scale 3", async () => `exit ${(await stack.cluster("scale", "3")).code}`);
}

async function phase(stack: Stack, label: string, stored: number, prefix: string): Promise<Phase> {
  const events: string[] = [];
  const windows: number[] = [];
  let bucket: number[] = [];
  let started = 0;
  let done = false;
  let disturbing: Promise<void> = Promise.resolve();
  const load = await runLoad({
    url: stack.url,
    users: 20,
    rooms: 4,
    members: 5,
    rate: 30,
    durationSec: SECONDS,
    churn: 0.1,
    churnEverySec: 20,
    kill: 0.5,
    stored: 0.2,
    presenceRooms: 4,
    history: true,
    seed: 10,
    prefix,
    say: (line) => {
      if (!line.includes("s  conns") || /\s(30|60|90|120|150|180)s {2}conns/.test(line)) say(line);
    },
    onStart: () => {
      started = performance.now();
      disturbing = disturb(stack, started, () => done, events);
    },
    onSecond: (p: Progress) => {
      bucket.push(...p.recent);
      const window = Math.floor((performance.now() - started) / (WINDOW_SEC * 1000));
      if (window > windows.length && windows.length < Math.ceil(SECONDS / WINDOW_SEC)) {
        windows.push(
          percentile(
            bucket.sort((a, b) => a - b),
            0.99,
          ),
        );
        bucket = [];
      }
    },
  });
  done = true;
  await disturbing;
  return { label, stored, load, windows, events };
}

async function seedBacklog(stack: Stack, prefix: string): Promise<{ messages: number; rate: number }> {
  const t0 = performance.now();
  const proc = Bun.spawn(
    ["bash", "scripts/seed-backlog", "--messages", String(STORED), "--rooms", "1000", "--prefix", prefix],
    {
      cwd: join(import.meta.dir, ".."),
      env: { ...process.env, ...stack.appEnv },
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error("scripts/seed-backlog failed");
  const report = JSON.parse(out.trim().split("\n").at(-1)!) as {
    messages: number;
    messagesPerSecond: number;
  };
  say(
    `[cluster-backlog] seeded ${report.messages} messages in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  return { messages: report.messages, rate: report.messagesPerSecond };
}

function row(p: Phase): string {
  const l = p.load;
  const c = l.check;
  return `| ${p.label} | ${int(p.stored)} | ${fmt(l.liveLatencyMs.p50)} / **${fmt(l.liveLatencyMs.p99)}** / ${fmt(l.liveLatencyMs.max)} | ${fmt(l.acceptedLatencyMs.p99)} | ${p.windows.map(fmt).join(", ")} | ${int(l.sent)} / ${int(l.receipted)} | ${c.lost} / ${c.duplicates} / ${c.reordered} / ${c.writtenTwice} | ${c.historyProblems} | ${l.reconnects} | ${l.presence ? `${l.presence.converged}/${l.presence.rooms}` : "-"} |`;
}

function ratio(a: Phase, b: Phase, q: 0.5 | 0.99): string {
  const pick = (p: Phase) => (q === 0.5 ? p.load.liveLatencyMs.p50 : p.load.liveLatencyMs.p99);
  return (pick(a) / pick(b)).toFixed(2);
}

export function report(phases: Phase[], seedRate: number): string {
  const filled = phases.at(-1)!;
  const met =
    filled.load.liveLatencyMs.p99 <= TARGET_P99_MS && filled.load.check.lost === 0 && filled.load.ok;
  return [
    TITLE,
    "",
    "`bun run bench cluster-backlog` (bench/cluster-backlog.ts): `scripts/cluster up --replicas 3` on a private set of",
    "services (Kafka, FerretDB, Postgres, Redis; scripts/faults.d/stack.ts) behind nginx; the load generator's 20 members",
    `(4 rooms × 5) send 30 msg/s with receipts for ${SECONDS} s, 10 % of them leaving and coming back every 20 s`,
    "(half by cutting the socket, a fifth resuming from their stored read position); meanwhile ws-node-2 is killed",
    "with SIGKILL at a third of the run (its clients reconnect through nginx), the cluster is scaled to 4 at half and",
    "back to 3 at three quarters (a drain). The first run is on an empty backlog; then scripts/seed-backlog writes the",
    `stored history into 1,000 other rooms (${int(Math.round(seedRate))} messages/s) and the same run repeats in rooms of its own.`,
    "Latency: first send → arrival at each member, live deliveries only (replays after a reconnect excluded); the",
    "accepted column times from the attempt that got the RECEIPT. The checker reads every room's history at the end.",
    "",
    `| run | stored messages | live p50 / p99 / max ms | accepted p99 ms | live p99 per ${WINDOW_SEC} s, ms | sent / receipted | lost / dup / reordered / written twice | history problems | reconnects | presence rooms right |`,
    "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ...phases.map(row),
    "",
    ...phases.map((p) => `${p.label}: ${p.events.join("; ")}.`),
    "",
    `Filled against empty, side by side on the same cluster: live p50 ${ratio(filled, phases[0]!, 0.5)}×, p99 ${ratio(filled, phases[0]!, 0.99)}× (what the stored history costs live delivery; the absolute figures also carry the machine's load, below).`,
    "",
    met
      ? `**With ${int(filled.stored)} messages stored: receiver p99 ${fmt(filled.load.liveLatencyMs.p99)} ms (target ≤ ${TARGET_P99_MS} ms: met), nothing lost.**`
      : `**With ${int(filled.stored)} messages stored: receiver p99 ${fmt(filled.load.liveLatencyMs.p99)} ms, ${filled.load.check.lost} lost (target ≤ ${TARGET_P99_MS} ms, nothing lost: not met).**`,
    "",
    loadNote(),
    "",
  ].join("\n");
}

export default async function clusterBacklog(): Promise<string> {
  const run = `cb${Date.now().toString(36)}`;
  const stack = await startStack({ run, proxied: false, replicas: 3, settings: { LOG_LEVEL: "warn" }, say });
  try {
    const empty = await phase(stack, "empty backlog", 0, `${run}a`);
    const seeded = await seedBacklog(stack, `${run}-seed`);
    const filled = await phase(stack, "filled backlog", seeded.messages, `${run}b`);
    const section = report([empty, filled], seeded.rate);
    writeSection(TITLE, section);
    return section;
  } finally {
    await stack.stop();
  }
}

if (import.meta.main) console.log(await clusterBacklog());
