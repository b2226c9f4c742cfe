/**
 * What each core was running while the chat's slowest copies waited. The CPU profile (cpu-profile.ts)
 * sees only JavaScript and the drift probe (loop-stalls.ts) only the event loop; the slow copies of W2
 * come in episodes of a few milliseconds, and this lays each one over the scheduler's record:
 *
 *   BENCH_LATENCY_DUMP=/tmp/lat BENCH_PEERS=chat BENCH_CHAT_SIZES=1000 BENCH_ONLY=ChatTalk bun bench/peers.ts &
 *   sleep 14; perf record -k CLOCK_MONOTONIC -e sched:sched_switch -a -o /tmp/sched.data -- sleep 8
 *   perf script -i /tmp/sched.data > /tmp/sched.txt   # once the bench has ended
 *   bun bench/support/tail-episodes.ts /tmp/sched.txt /tmp/lat.* [--server <pid>] [--show <n>]
 *
 * An episode is the copies above the p99 (of those sent while perf recorded) whose arrivals lie
 * within 3 ms of each other; its window runs from the first one's publish to the last one's arrival.
 * `--server` names the ChatTalk process's pid (its event loop's thread; `pgrep -f apps/main.ts`); the
 * client's pid is in the dump's file name; with `--server` it also sums the time the event loop was
 * preempted (switched out while ready to run), by what took its core. Other threads are named by
 * their thread name: Bun's worker threads are all "Worker", JSC's JIT compiler "JITWorker", its GC
 * helpers "HeapHelper".
 */
import { basename } from "node:path";

interface Run {
  start: number;
  end: number;
  who: string;
  cpu: number;
}

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const serverPid = Number(option("--server") ?? Number.NaN);
const show = Number(option("--show") ?? 10);
const [schedFile, ...dumpFiles] = args;
if (!schedFile || dumpFiles.length === 0) {
  console.error(
    "usage: bun bench/support/tail-episodes.ts <perf script output> <dump files...> [--server <pid>]",
  );
  process.exit(2);
}
const clientPids = new Set(dumpFiles.map((f) => Number(basename(f).split(".").pop())));
const label = (pid: number, comm: string) =>
  pid === 0 ? "idle" : pid === serverPid ? "EVENT-LOOP" : clientPids.has(pid) ? "CLIENT" : comm;

// Each core's runs, from consecutive switches on it.
const SWITCH =
  /\[(\d+)\]\s+([\d.]+): sched:sched_switch: prev_comm=.*? prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)/;
const runs: Run[] = [];
/** The record's first and last switch: its window (no spread over `runs`, which can be millions long). */
let from = Number.POSITIVE_INFINITY;
let to = Number.NEGATIVE_INFINITY;
const current = new Map<number, { start: number; who: string }>();
/** Time the event loop spent preempted (switched out while runnable), by what took its core. */
const preempted = new Map<string, { ms: number; times: number }>();
let preemptedAt: { t: number; by: string } | undefined;
for (const line of (await Bun.file(schedFile).text()).split("\n")) {
  const m = SWITCH.exec(line);
  if (!m) continue;
  const cpu = Number(m[1]);
  const t = Number(m[2]) * 1e3;
  from = Math.min(from, t);
  to = Math.max(to, t);
  const next = label(Number(m[6]), m[5]!);
  const was = current.get(cpu);
  if (was) runs.push({ start: was.start, end: t, who: was.who, cpu });
  current.set(cpu, { start: t, who: next });
  if (Number(m[3]) === serverPid) preemptedAt = m[4]!.startsWith("R") ? { t, by: next } : undefined;
  else if (next === "EVENT-LOOP" && preemptedAt) {
    const p = preempted.get(preemptedAt.by) ?? { ms: 0, times: 0 };
    p.ms += t - preemptedAt.t;
    p.times++;
    preempted.set(preemptedAt.by, p);
    preemptedAt = undefined;
  }
}
if (runs.length === 0) throw new Error(`no sched_switch lines in ${schedFile}`);

// Copies published while perf recorded: [sent, latency].
const copies: [number, number][] = [];
for (const f of dumpFiles) {
  for (const line of (await Bun.file(f).text()).split("\n")) {
    const [sent, latency] = line.split(" ").map(Number);
    if (latency !== undefined && sent! > from && sent! + latency < to) copies.push([sent!, latency]);
  }
}
if (copies.length === 0) throw new Error("no copies in the recorded window: was the clock CLOCK_MONOTONIC?");
const sorted = copies.map((c) => c[1]).sort((a, b) => a - b);
const p99 = sorted[Math.floor(sorted.length * 0.99)]!;

const episodes: { start: number; end: number }[] = [];
const slow = copies.filter((c) => c[1] > p99).sort((a, b) => a[0] + a[1] - (b[0] + b[1]));
let lastArrival = Number.NEGATIVE_INFINITY;
for (const [sent, latency] of slow) {
  const arrival = sent + latency;
  const ep = episodes.at(-1);
  if (ep && arrival - lastArrival < 3) {
    ep.start = Math.min(ep.start, sent);
    ep.end = arrival;
  } else episodes.push({ start: sent, end: arrival });
  lastArrival = arrival;
}

const overlap = (r: Run, a: number, b: number) => Math.min(r.end, b) - Math.max(r.start, a);
/** What held a core in the window: another thread ≥ 1 ms, else the event loop or the client ≥ 2 ms. */
function verdict(a: number, b: number): string {
  const held = new Map<string, number>();
  let loopStretch = 0;
  for (const r of runs) {
    const d = overlap(r, a, b);
    if (d <= 0) continue;
    held.set(r.who, (held.get(r.who) ?? 0) + d);
    if (r.who === "EVENT-LOOP") loopStretch = Math.max(loopStretch, d);
  }
  const other = [...held].filter(([who]) => !["idle", "EVENT-LOOP", "CLIENT"].includes(who));
  other.sort((x, y) => y[1] - x[1]);
  if (other[0] && other[0][1] >= 1) return `another thread: ${other[0][0]}`;
  if (loopStretch >= 2) return "the event loop, busy";
  if ((held.get("CLIENT") ?? 0) >= 2) return "the client, busy";
  return "none of these (cores idle or switching)";
}

const seconds = (to - from) / 1e3;
console.log(
  `${copies.length} copies in ${seconds.toFixed(1)} s; p99 ${p99.toFixed(2)} ms; ` +
    `${episodes.length} episodes (${(episodes.length / seconds).toFixed(1)}/s)`,
);
const counts = new Map<string, number>();
for (const ep of episodes) {
  const v = verdict(ep.start - 0.3, ep.end);
  counts.set(v, (counts.get(v) ?? 0) + 1);
}
for (const [v, n] of [...counts].sort((x, y) => y[1] - x[1])) console.log(`  ${String(n).padStart(4)}  ${v}`);
if (preempted.size > 0) {
  const all = [...preempted].sort((x, y) => y[1].ms - x[1].ms);
  const total = all.reduce((sum, [, p]) => sum + p.ms, 0);
  console.log(`the event loop was preempted for ${total.toFixed(0)} ms in all, by:`);
  for (const [by, p] of all.slice(0, 8)) {
    const each = (p.ms / p.times).toFixed(2);
    console.log(
      `  ${p.ms.toFixed(1).padStart(7)} ms  ${String(p.times).padStart(5)} times (${each} ms each)  ${by}`,
    );
  }
}
for (const ep of episodes.slice(0, show)) {
  const a = ep.start - 0.3;
  console.log(`episode at ${(a - from).toFixed(1)} ms, ${(ep.end - a).toFixed(1)} ms long:`);
  const cpus = [...new Set(runs.map((r) => r.cpu))].sort((x, y) => x - y);
  for (const cpu of cpus) {
    const parts = runs
      .filter((r) => r.cpu === cpu && overlap(r, a, ep.end) > 0.15)
      .map((r) => `${r.who} ${overlap(r, a, ep.end).toFixed(1)}`);
    console.log(`  cpu${cpu}: ${parts.join(" · ")}`);
  }
}
