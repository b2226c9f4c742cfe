/**
 * History-scaling benchmark (issue 10): does a room's live delivery and missed-message replay stay
 * the same as the stored history of other rooms grows to 0, 10k, 100k and 1M messages over 1,000
 * rooms (seeded straight into the backlog with scripts/seed-backlog.d/seed.ts)? On the embedded
 * stack (apps/main.ts) and, with the service URLs set, on a ws-node over Kafka, FerretDB, Postgres
 * and Redis. At each step, on fresh rooms:
 *   - replay from memory: a member who missed 1,000 messages subscribes with x-since-seq on the node
 *     that saw them (its recent messages cover the range);
 *   - replay from the store: the same on a node started with RECENT_MESSAGES_PER_ROOM=0, so every
 *     page comes from the backlog (a fresh node, a long absence);
 *   - live p50/p99 at 30 msg/s while 20 of the room's members reconnect every 10 s.
 * HISTORY_SCALING_REAL_MAX caps the real services' steps (seeding FerretDB runs ~9k messages/s);
 * HISTORY_SCALING_MAX caps both (a quick look; the document is written all the same).
 */
import { type SeededRoom, seedMessages } from "../scripts/seed-backlog.d/seed.ts";
import { RawStomp } from "../testkit/raw-stomp.ts";
import { fmtInt, median } from "./support/child.ts";
import { loadNote, writeSection } from "./support/doc-section.ts";
import { liveUnderReconnects, replayOnce } from "./support/history-probes.ts";
import { embeddedStage, type HistoryStage, realStage } from "./support/history-stage.ts";

export const TITLE = "### History scaling (replay and live delivery vs. what other rooms hold)";
const STEPS = [0, 10_000, 100_000, 1_000_000];
const ROOMS = 1_000;
const MISSED = 1_000;
const REPS = 5;
const LIVE = { ratePerSec: 30, durationMs: 30_000, reconnecting: 20, everyMs: 10_000 };

interface Row {
  stored: number;
  memory: number[];
  store: number[];
  /** Milliseconds to the last missed message (store), to tell the replay from the switch to live. */
  storeAll: number[];
  live: {
    p50: number;
    p99: number;
    max: number;
    steadyP99: number;
    sent: number;
    unanswered: number;
    lost: number;
    reconnects: number;
  };
  sources: { memory: number; store: number };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** REPS replays of MISSED messages in one fresh room; the member subscribes from what it had. */
async function replays(stage: HistoryStage): Promise<{ live: number[]; all: number[] }> {
  const sender = await stage.member("sender");
  const member = await stage.member("member");
  const room = await stage.room(sender.user, [member.user]);
  const out = await RawStomp.connect(stage.wsUrl, sender.token);
  // Both wait until the missed messages are stored: the member was away, the burst is past.
  const waitStored = async (last: number) => {
    const deadline = performance.now() + 60_000;
    while ((await stage.backlog.lastSeq(room.id)) < last) {
      if (performance.now() > deadline) throw new Error("the backlog writer did not store the burst");
      await Bun.sleep(20);
    }
  };
  const live: number[] = [];
  const all: number[] = [];
  try {
    for (let i = 0; i < REPS; i++) {
      const t = await replayOnce(stage, room.id, out, member.token, MISSED, waitStored);
      live.push(t.liveMs);
      all.push(t.allMs);
    }
  } finally {
    out.close();
  }
  return { live, all };
}

async function measureStep(stage: HistoryStage, stored: number): Promise<Row> {
  await stage.start();
  const memory = await replays(stage);
  const live = await liveUnderReconnects(stage, LIVE);
  const fromMemory = await stage.replays();
  await stage.start({ RECENT_MESSAGES_PER_ROOM: "0" });
  const store = await replays(stage);
  const fromStore = await stage.replays();
  await stage.stopNode();
  return {
    stored,
    memory: memory.live,
    store: store.live,
    storeAll: store.all,
    live: {
      p50: percentile(live.latencies, 50),
      p99: percentile(live.latencies, 99),
      max: Math.max(...live.latencies),
      steadyP99: percentile(live.steady, 99),
      sent: live.sent,
      unanswered: live.unanswered,
      lost: live.lostAtSteady,
      reconnects: live.reconnects,
    },
    sources: { memory: fromMemory.memory ?? 0, store: fromStore.store ?? 0 },
  };
}

/**
 * After a bulk load a server keeps busy for a while (Postgres analyses and vacuums the tables FerretDB
 * just filled): waits until a page read stops getting faster, at most 60 s, so a step measures what
 * the stored history costs rather than the load that put it there.
 */
async function settle(stage: HistoryStage, room: SeededRoom): Promise<void> {
  const deadline = performance.now() + 60_000;
  let best = Number.POSITIVE_INFINITY;
  let steady = 0;
  while (steady < 3 && performance.now() < deadline) {
    const t = performance.now();
    await stage.backlog.after(room.id, 0, 200);
    const took = performance.now() - t;
    steady = took > best * 0.85 ? steady + 1 : 0;
    best = Math.min(best, took);
    await Bun.sleep(1_000);
  }
}

async function measure(stage: HistoryStage, steps: number[]): Promise<{ rows: Row[]; seedRate: number }> {
  const owner = await stage.member("seed");
  const others: SeededRoom[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const room = await stage.stores.rooms.createRoom({
      name: `seeded ${r}`,
      ownerId: owner.user.id,
      maxMembers: 2,
    });
    others.push({ id: room.id, members: [owner.user] });
  }
  const rows: Row[] = [];
  let stored = 0;
  let seedMs = 0;
  for (const step of steps) {
    const t = performance.now();
    await seedMessages(stage.backlog, others, { from: stored, to: step });
    seedMs += performance.now() - t;
    stored = step;
    console.error(`bench: history-scaling ${stage.label}: ${fmtInt(stored)} stored`);
    await settle(stage, others[0]!);
    rows.push(await measureStep(stage, stored));
  }
  for (const room of others) await stage.stores.rooms.deleteRoom(room.id);
  return { rows, seedRate: seedMs > 0 ? stored / (seedMs / 1000) : 0 };
}

const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));
const med = (v: number[]) => `${ms(median(v))} ms`;

function table(label: string, m: { rows: Row[]; seedRate: number }): string[] {
  const base = m.rows[0]!;
  const ratio = (v: number, b: number) => `${(v / b).toFixed(2)}×`;
  return [
    `**${label}** — other rooms' history seeded at ${fmtInt(m.seedRate)} messages/s`,
    "",
    "| stored in other rooms | replay of 1,000 missed, from memory | from the store (to the last missed) | live p50 / p99 / max (30 msg/s, 20 reconnecting); steady member's p99 | live sent, not receipted, lost | replays counted memory / store |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...m.rows.map(
      (r) =>
        `| ${fmtInt(r.stored)} | ${med(r.memory)} (${ratio(median(r.memory), median(base.memory))}) | ${med(r.store)} (${med(r.storeAll)}) (${ratio(median(r.store), median(base.store))}) | ${ms(r.live.p50)} / ${ms(r.live.p99)} / ${ms(r.live.max)} ms (p99 ${ratio(r.live.p99, base.live.p99)}); ${ms(r.live.steadyP99)} ms | ${fmtInt(r.live.sent)}, ${r.live.unanswered}, ${r.live.lost} | ${r.sources.memory} / ${r.sources.store} |`,
    ),
    "",
  ];
}

async function run1(make: () => Promise<HistoryStage>, steps: number[], sections: string[]): Promise<void> {
  const stage = await make();
  try {
    sections.push(...table(stage.label, await measure(stage, steps)));
  } finally {
    await stage.dispose();
  }
}

export default async function run(): Promise<string> {
  const sections: string[] = [
    TITLE,
    "",
    `Produced by \`bun run bench history-scaling\` on ${new Date().toISOString().slice(0, 10)} (it rewrites this section only).`,
    "",
    `${fmtInt(ROOMS)} other rooms hold the stored history (dealt round-robin, written straight into the backlog);`,
    "each step measures in fresh rooms of its own. Replay: a member who missed 1,000 messages subscribes",
    "with `x-since-seq` and the sender sends one live message at once; the time is from SUBSCRIBE until",
    `that live message arrives after all 1,000 (median of ${REPS}; in brackets the ratio to 0 stored). From memory: on the`,
    "node that saw them (recent messages cover the range, no backlog read). From the store: on the node",
    "restarted with `RECENT_MESSAGES_PER_ROOM=0`, so the backlog serves every page (as for a fresh node);",
    "the last column is the node's `chattalk_replays_total` by source, which shows each replay came",
    `from where it says. Live: ${LIVE.ratePerSec} msg/s for ${LIVE.durationMs / 1000} s, latency from the send to every member that got it live`,
    `(not marked x-replay) — and apart, the p99 at the one member who stays connected — while ${LIVE.reconnecting} of the members reconnect every ${LIVE.everyMs / 1000} s with \`x-since-seq\`; lost = live`,
    "messages a steady member had not got 15 s after the last was sent. Targets: replay ≤ 300 ms embedded, ≤ 1 s real; live p99 ≤ 100 ms;",
    "both within 1.5× between 0 and 1M stored.",
    "",
  ];
  const capped = (env: string | undefined, steps: number[]) =>
    steps.filter((s) => s <= Number(env ?? Infinity));
  const embeddedSteps = capped(process.env.HISTORY_SCALING_MAX, STEPS);
  await run1(embeddedStage, embeddedSteps, sections);
  if (embeddedSteps.length < STEPS.length)
    sections.push(
      `Embedded: steps above ${fmtInt(embeddedSteps.at(-1)!)} not run (HISTORY_SCALING_MAX).`,
      "",
    );
  if (process.env.KAFKA_BROKERS && process.env.MONGO_URL && process.env.DATABASE_URL) {
    const steps = capped(process.env.HISTORY_SCALING_REAL_MAX, embeddedSteps);
    await run1(realStage, steps, sections);
    if (steps.length < STEPS.length)
      sections.push(
        `Real services: steps above ${fmtInt(steps.at(-1)!)} not run (HISTORY_SCALING_REAL_MAX / HISTORY_SCALING_MAX).`,
        "",
      );
  } else {
    sections.push(
      'Real services: skipped, service URLs not set (`eval "$(bash scripts/services env)"` first).',
      "",
    );
  }
  sections.push(loadNote(), "");
  const section = sections.join("\n");
  writeSection(TITLE, section);
  return section;
}
