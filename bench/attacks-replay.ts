/**
 * Replay amplification (issue 13, row 2) under measurement: a healthy member's latency and /healthz
 * with and without one member asking for a 50,000-message history over and over, side by side in
 * one run on one ws-node process (embedded stack). The attacker runs in a process of its own and
 * reads and discards at full speed; it reconnects with a fresh round of SUBSCRIBEs every few seconds,
 * so it always has the most replays it may have.
 */
import { loadavg } from "node:os";
import {
  type AttackResult,
  HealthyChat,
  percentile,
  probeHealth,
  rssOf,
  startAttacker,
  startAttackStage,
} from "../testkit/replay-attack.ts";

const HISTORY = 50_000;
const PHASE_MS = 12_000;
const ROUND_MS = 4_000;
/** The healthy pair's pace: one message every this many ms. */
const EVERY_MS = 50;
/** One connection with 60 SUBSCRIBEs, nine more with 6 each: what issue 13 measured. */
const PLAN = [60, 6, 6, 6, 6, 6, 6, 6, 6, 6];

interface Phase {
  name: string;
  latencies: number[];
  sent: number;
  health: number[];
  rssStart: number;
  rssPeak: number;
  attack?: AttackResult;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "no answer");
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export default async function run(): Promise<string> {
  const load = loadavg()[0]!;
  const stage = await startAttackStage(HISTORY);
  const pid = stage.node.proc.pid;
  const phases: Phase[] = [];
  try {
    for (const attacked of [false, true, false, true, false, true]) {
      const chat = await HealthyChat.open(stage);
      const rssStart = rssOf(pid);
      let rssPeak = rssStart;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rssOf(pid));
      }, 100);
      const health = probeHealth(stage.node.url, 100);
      chat.start(EVERY_MS);
      const attack: AttackResult = { bytes: 0, refusals: 0, errors: 0 };
      const until = performance.now() + PHASE_MS;
      while (performance.now() < until) {
        if (!attacked) {
          await Bun.sleep(until - performance.now());
          break;
        }
        const attacker = await startAttacker(stage, PLAN);
        await Bun.sleep(Math.min(ROUND_MS, Math.max(0, until - performance.now())));
        const round = await attacker.stop();
        attack.bytes += round.bytes;
        attack.refusals += round.refusals;
        attack.errors += round.errors;
      }
      const delivered = await chat.stop();
      clearInterval(sampler);
      const samples = await health.stop();
      if (delivered !== chat.sent) throw new Error(`healthy chat: ${delivered} of ${chat.sent} delivered`);
      phases.push({
        name: attacked ? "under attack" : "no attack",
        latencies: chat.latencies,
        sent: chat.sent,
        health: samples,
        rssStart,
        rssPeak,
        ...(attacked ? { attack } : {}),
      });
      await Bun.sleep(1_000);
    }
  } finally {
    await stage.stop();
  }

  const rows = phases.map((p) => {
    const row = [
      p.name,
      String(p.sent),
      ms(percentile(p.latencies, 50)),
      ms(percentile(p.latencies, 99)),
      ms(Math.max(...p.latencies)),
      ms(percentile(p.health, 50)),
      ms(percentile(p.health, 99)),
      `${mib(p.rssStart)} → ${mib(p.rssPeak)}`,
      p.attack ? mib(p.attack.bytes) : "–",
      p.attack ? String(p.attack.refusals) : "–",
    ];
    return `| ${row.join(" | ")} |`;
  });
  /** The median over a kind of phase of each phase's p99. */
  const p99 = (name: string) =>
    percentile(
      phases.filter((p) => p.name === name).map((p) => percentile(p.latencies, 99)),
      50,
    );
  return [
    "### Replay amplification (issue 13, row 2)",
    "",
    `One ws-node process (\`apps/ws-node/main.ts\`, embedded stack) with a room of ${HISTORY.toLocaleString("en-US")} stored messages.`,
    `A healthy member sends one message every ${EVERY_MS} ms to another room with a receipt; another member receives it`,
    "(latency: SEND → MESSAGE, both clients in the benchmark process). Meanwhile an attacking member (a process of",
    "its own) opens 10 connections and sends 60 + 9 × 6 SUBSCRIBEs with `x-since-seq:0` to the big room, reading and",
    `discarding everything, and starts over every ${ROUND_MS / 1000} s. /healthz is probed every 100 ms. Phases of`,
    `${PHASE_MS / 1000} s alternate, without and with the attack. Replays in progress are capped at 4 per connection and 8 per`,
    "user (the rest are refused with `replay_limited`), backlog reads at 4 at once per node, and replays send in",
    "slices of 2 ms per turn of the event loop, all replays together.",
    "",
    "| phase | healthy msgs | p50 ms | p99 ms | max ms | /healthz p50 ms | /healthz p99 ms | node RSS MiB | attacker received MiB | SUBSCRIBEs refused |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `**Healthy member's p99 under attack: ${p99("under attack").toFixed(1)} ms (${p99("no attack").toFixed(1)} ms without)**, the median`,
    "over the phases of each kind; every healthy message was delivered and every /healthz probe answered.",
    "Replays are paced at 4 MiB/s per user (after a first MiB at once), so the attacker gets a few MiB a second",
    "however fast it reads, and the node's heap no longer grows with what it asks for. This machine's 2 cores",
    `are shared with other work (load average ${load.toFixed(1)} when this run started), so single phases vary;`,
    "compare the phases side by side. Command: `bun run bench attacks-replay`.",
    "",
  ].join("\n");
}
