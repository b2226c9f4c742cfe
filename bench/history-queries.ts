/**
 * History-queries benchmark: what one room's backlog reads cost as the history of other rooms grows
 * (0, 10k, 100k, 1M messages over 1,000 rooms, seeded straight into the backlog with
 * scripts/seed-backlog.d/seed.ts). Measured on the embedded SQLite backlog and, with MONGO_URL set,
 * on the MongoDB-protocol backlog of the real services in the layout picked for that server (paged
 * on FerretDB v1); for contrast, the indexed layout — the one real MongoDB serves from its index —
 * on the same server, up to 100k (on FerretDB v1 its cost grows with everything stored).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { createMongoBacklog, type MongoLayout, pickLayout } from "../lib/backlog/mongo.ts";
import { createSqliteBacklog } from "../lib/backlog/sqlite.ts";
import type { Backlog } from "../lib/backlog/types.ts";
import { type SeededRoom, seedMessages, seqOf } from "../scripts/seed-backlog.d/seed.ts";
import { fmtInt, median } from "./support/child.ts";
import { loadNote, writeSection } from "./support/doc-section.ts";

export const TITLE = "### History queries (one room's reads vs. what other rooms hold)";
const STEPS = [0, 10_000, 100_000, 1_000_000];
/** The indexed layout on FerretDB v1 scans everything: stop before a step takes minutes. */
const INDEXED_ON_FERRET_STEPS = [0, 10_000, 100_000];
const OTHER_ROOMS = 1_000;
/** The rooms whose reads are timed: their own history stays the same at every step. */
const PROBES = 20;
const PROBE_HISTORY = 1_000;
const REPS = 10;

const member = { id: "bench-user", username: "bench", createdAt: "2025-01-01T00:00:00.000Z" };
const rooms = (tag: string, n: number): SeededRoom[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, members: [member] }));

type Query = "replay" | "replayEnd" | "history" | "lastSeq" | "unread";
const QUERIES: [Query, string][] = [
  ["replay", "replay page (200 after)"],
  ["replayEnd", "replay end (after the last)"],
  ["history", "history page (50 before)"],
  ["lastSeq", "lastSeq"],
  ["unread", `unread counts, ${PROBES} rooms`],
];
type Timings = Record<Query, number>;

interface Row {
  stored: number;
  /** Median milliseconds per query: on the backlog that holds the history, and on its empty twin. */
  loaded: Timings;
  empty: Timings;
}

/** The queries, on the probe rooms (each holds seqs 1..PROBE_HISTORY of its own little log). */
function queries(backlog: Backlog, probes: SeededRoom[]): Record<Query, () => Promise<unknown>> {
  const middle = seqOf(PROBE_HISTORY / 2);
  const positions = new Map(probes.map((p) => [p.id, middle]));
  return {
    replay: () => backlog.after(probes[0]!.id, middle, 200),
    replayEnd: () => backlog.after(probes[1]!.id, seqOf(PROBE_HISTORY - 1), 200),
    history: () => backlog.before(probes[2]!.id, seqOf(700), 50),
    lastSeq: () => backlog.lastSeq(probes[3]!.id),
    unread: () => backlog.countsAfter(positions, 1_000),
  };
}

async function check(backlog: Backlog, probes: SeededRoom[]): Promise<void> {
  const middle = seqOf(PROBE_HISTORY / 2);
  const page = await backlog.after(probes[0]!.id, middle, 200);
  if (page.length !== 200 || page[0]!.seq !== middle + 1) throw new Error("replay page is wrong");
  const counts = await backlog.countsAfter(new Map(probes.map((p) => [p.id, middle])), 1_000);
  if (!probes.every((p) => counts.get(p.id) === PROBE_HISTORY - middle))
    throw new Error("unread counts are wrong");
}

/** Each query on the loaded backlog and on its empty twin in turn, so both see the same machine. */
async function timeSideBySide(loaded: Backlog, empty: Backlog, probes: SeededRoom[]) {
  const runs = [queries(loaded, probes), queries(empty, probes)];
  const samples = runs.map(() => new Map<Query, number[]>(QUERIES.map(([q]) => [q, []])));
  for (const r of runs) for (const run of Object.values(r)) await run(); // warm caches and connections
  for (let i = 0; i < REPS; i++) {
    for (const [q] of QUERIES) {
      // Alternating which goes first cancels what the second of a pair gains from the first.
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const t = performance.now();
        await runs[k]![q]();
        samples[k]!.get(q)!.push(performance.now() - t);
      }
    }
  }
  await check(loaded, probes);
  await check(empty, probes);
  const medians = (m: Map<Query, number[]>) =>
    Object.fromEntries([...m].map(([q, v]) => [q, median(v)])) as Timings;
  return { loaded: medians(samples[0]!), empty: medians(samples[1]!) };
}

/**
 * After a bulk load a server keeps busy for a while (Postgres analyses and vacuums the tables FerretDB
 * just filled): waits until a replay page stops getting faster, at most 30 s, so a step measures
 * what the stored history costs rather than the load that put it there.
 */
async function settle(backlog: Backlog, probe: SeededRoom): Promise<void> {
  const deadline = performance.now() + 30_000;
  let best = Number.POSITIVE_INFINITY;
  let steady = 0;
  while (steady < 3 && performance.now() < deadline) {
    const t = performance.now();
    await backlog.after(probe.id, seqOf(PROBE_HISTORY / 2), 200);
    const took = performance.now() - t;
    steady = took > best * 0.85 ? steady + 1 : 0;
    best = Math.min(best, took);
    await Bun.sleep(500);
  }
}

interface Measured {
  label: string;
  rows: Row[];
  seedRate: number;
}

/**
 * Seeds the same probe rooms into `loaded` and `empty`, then grows the other rooms' history in
 * `loaded` only, step by step, timing both side by side after each step.
 */
async function measure(
  label: string,
  loaded: Backlog,
  empty: Backlog,
  steps: number[],
  tag: string,
): Promise<Measured> {
  const probes = rooms(`${tag}-probe`, PROBES);
  for (const b of [loaded, empty]) {
    for (const probe of probes) await seedMessages(b, [probe], { from: 0, to: PROBE_HISTORY });
  }
  const others = rooms(`${tag}-other`, OTHER_ROOMS);
  const rows: Row[] = [];
  let stored = 0;
  let seedMs = 0;
  for (const step of steps) {
    const t = performance.now();
    await seedMessages(loaded, others, { from: stored, to: step });
    seedMs += performance.now() - t;
    stored = step;
    console.error(`bench: history-queries ${label}: ${fmtInt(stored)} stored`);
    await settle(loaded, probes[0]!);
    rows.push({ stored, ...(await timeSideBySide(loaded, empty, probes)) });
  }
  return { label, rows, seedRate: stored / (seedMs / 1000) };
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));

function table(m: Measured): string[] {
  return [
    `**${m.label}** — history seeded at ${fmtInt(m.seedRate)} messages/s`,
    "",
    `| stored in other rooms | ${QUERIES.map(([, name]) => name).join(" | ")} |`,
    `| ---: | ${QUERIES.map(() => "---:").join(" | ")} |`,
    ...m.rows.map(
      (r) =>
        `| ${fmtInt(r.stored)} | ${QUERIES.map(([q]) => `${ms(r.loaded[q])} ms (${(r.loaded[q] / r.empty[q]).toFixed(2)}×)`).join(" | ")} |`,
    ),
    "",
  ];
}

async function onMongo(url: string, label: string, layout: MongoLayout, steps: number[], tag: string) {
  const names = [`chattalk_bench_${tag}`, `chattalk_bench_${tag}_empty`];
  const [loaded, empty] = names.map((name) => createMongoBacklog(url, name, { layout }));
  try {
    return await measure(label, loaded!, empty!, steps, tag);
  } finally {
    await Promise.all([loaded!.close(), empty!.close()]);
    const client = new MongoClient(url);
    for (const name of names) await client.db(name).dropDatabase();
    await client.close();
  }
}

/** The SQLite section, then the MongoDB-protocol ones when MONGO_URL is set. */
async function measureAll(sections: string[], dir: string, runId: string): Promise<void> {
  const sqlite = createSqliteBacklog(join(dir, "backlog.db"));
  const twin = createSqliteBacklog(join(dir, "empty.db"));
  try {
    sections.push(...table(await measure("embedded SQLite backlog", sqlite, twin, STEPS, `s${runId}`)));
  } finally {
    await Promise.all([sqlite.close(), twin.close()]);
  }
  const url = process.env.MONGO_URL;
  if (!url) {
    sections.push(
      'MongoDB protocol: skipped, MONGO_URL not set (`eval "$(bash scripts/services env)"` first).',
      "",
    );
    return;
  }
  const client = new MongoClient(url);
  const [info, picked] = await Promise.all([
    client.db("admin").command({ buildInfo: 1 }),
    pickLayout(client.db("admin")),
  ]);
  await client.close();
  const server = info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion}` : `MongoDB ${info.version}`;
  const label = `${server}, ${picked} layout (the one it runs)`;
  sections.push(...table(await onMongo(url, label, picked, STEPS, `h${runId}p`)));
  if (picked === "paged") {
    const contrast = `${server}, indexed layout (what real MongoDB serves from its index; ${server} scans)`;
    sections.push(...table(await onMongo(url, contrast, "indexed", INDEXED_ON_FERRET_STEPS, `h${runId}i`)));
  }
}

export default async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-bench-history-"));
  const sections: string[] = [
    TITLE,
    "",
    `Produced by \`bun run bench history-queries\` on ${new Date().toISOString().slice(0, 10)} (it rewrites this section only).`,
    "",
    `${PROBES} rooms with ${fmtInt(PROBE_HISTORY)} messages each are read while ${fmtInt(OTHER_ROOMS)} other rooms`,
    "grow to the stored count (messages dealt round-robin, as one Kafka partition numbers them), and side",
    "by side in a twin database that holds only those rooms. Each cell: the median of",
    `${REPS} runs, and in brackets its ratio to the same query on the twin (1.00× = other rooms' history`,
    "costs nothing).",
    "",
  ];
  try {
    await measureAll(sections, dir, Date.now().toString(36));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  sections.push(loadNote(), "");
  const section = sections.join("\n");
  writeSection(TITLE, section);
  return section;
}
