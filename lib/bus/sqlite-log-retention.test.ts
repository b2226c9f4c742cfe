import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../testkit/eventually.ts";
import { newDraft } from "../chat/message.ts";
import { createSqliteBus, type SqliteBusOptions } from "./sqlite-log.ts";
import type { MessageBus } from "./types.ts";

const dir = mkdtempSync(join(tmpdir(), "chattalk-bus-retention-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const alice = { id: "u-alice", username: "alice" };
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** A bus on a new file with five messages from ten minutes ago and two from now; the log's texts. */
async function busWithOldAndNew(name: string, options: SqliteBusOptions) {
  const path = join(dir, name);
  const bus = createSqliteBus(path, options);
  for (const text of ["o1", "o2", "o3", "o4", "o5"]) {
    await bus.publish({ ...newDraft("r", "message", alice, text), sentAt: ago(600_000) });
  }
  for (const text of ["n1", "n2"]) await bus.publish(newDraft("r", "message", alice, text));
  const reader = new Database(path, { readonly: true });
  const texts = () =>
    reader
      .query<{ body: string }, []>("SELECT body FROM log ORDER BY seq")
      .all()
      .map((r) => (JSON.parse(r.body) as { text: string }).text);
  const close = async () => {
    reader.close();
    await bus.close();
  };
  return { bus, texts, close };
}

/** Consumes everything as group `g` and waits until its position is past the last message. */
async function consumeAll(bus: MessageBus, count: number) {
  let handled = 0;
  const stop = await bus.consume("g", async (batch) => {
    handled += batch.length;
  });
  await eventually(() => handled === count, "all consumed");
  return stop;
}

test("messages past the retention that every group has consumed are deleted; seqs go on", async () => {
  const { bus, texts, close } = await busWithOldAndNew("expire.db", {
    retentionMs: 60_000,
    retentionCheckMs: 20,
  });
  const stop = await consumeAll(bus, 7);
  await eventually(() => texts().length === 2, "the five old messages deleted");
  expect(texts()).toEqual(["n1", "n2"]);
  const next = await bus.publish(newDraft("r", "message", alice, "n3"));
  expect(next.seq).toBe(8); // never a seq given before
  // What is left is still handed over as the recent past.
  const past: string[] = [];
  const unsubscribe = await bus.subscribe((m, isPast) => isPast && past.push(m.text), { pastMs: 60_000 });
  expect(past).toEqual(["n1", "n2", "n3"]);
  await unsubscribe();
  await stop();
  await close();
});

test("a group that has not consumed expired messages holds them until it has", async () => {
  const { bus, texts, close } = await busWithOldAndNew("held.db", {
    retentionMs: 60_000,
    retentionCheckMs: 20,
    batchSize: 2,
    consumeLingerMs: 0,
  });
  let gate!: () => void;
  const opened = new Promise<void>((open) => {
    gate = open;
  });
  let batches = 0;
  const stop = await bus.consume("slow", async () => {
    if (++batches === 2) await opened; // o1 and o2 committed, o3 and o4 in hand
  });
  await eventually(() => texts().length === 5, "the two consumed old messages deleted");
  await Bun.sleep(100); // five more retention checks
  expect(texts()).toEqual(["o3", "o4", "o5", "n1", "n2"]);
  gate();
  await eventually(() => texts().length === 2, "the rest deleted once consumed");
  await stop();
  await close();
});

test("while no group has committed, expired messages stay (nothing is known to be stored)", async () => {
  const { texts, close } = await busWithOldAndNew("unconsumed.db", {
    retentionMs: 60_000,
    retentionCheckMs: 20,
  });
  await Bun.sleep(100); // five timer passes
  expect(texts()).toEqual(["o1", "o2", "o3", "o4", "o5", "n1", "n2"]);
  await close();
});

test("retention 0 (the default) keeps every message", async () => {
  const { bus, texts, close } = await busWithOldAndNew("keep.db", { retentionCheckMs: 20 });
  const stop = await consumeAll(bus, 7);
  await Bun.sleep(100);
  expect(texts()).toEqual(["o1", "o2", "o3", "o4", "o5", "n1", "n2"]);
  await stop();
  await close();
});

test("a delete that fails holds back no append, and is tried again", async () => {
  const path = join(dir, "refused.db");
  const { bus, texts, close } = await busWithOldAndNew("refused.db", {
    retentionMs: 60_000,
    retentionCheckMs: 20,
  });
  const other = new Database(path);
  other.run("CREATE TRIGGER keep BEFORE DELETE ON log BEGIN SELECT RAISE(ABORT, 'kept'); END");
  const stop = await consumeAll(bus, 7);
  await Bun.sleep(100); // the old rows are due: each commit and timer pass tries and fails
  const next = await bus.publish(newDraft("r", "message", alice, "n3"));
  expect(next.text).toBe("n3");
  expect(texts()).toHaveLength(8);
  other.run("DROP TRIGGER keep");
  await eventually(() => texts().length === 3, "deleted once it can be");
  expect(texts()).toEqual(["n1", "n2", "n3"]);
  other.close();
  await stop();
  await close();
});

test("the last message stays, however old, so the next seq follows it", async () => {
  const path = join(dir, "last.db");
  const bus = createSqliteBus(path, { retentionMs: 60_000, retentionCheckMs: 20 });
  for (const text of ["o1", "o2", "o3"]) {
    await bus.publish({ ...newDraft("r", "message", alice, text), sentAt: ago(600_000) });
  }
  const reader = new Database(path, { readonly: true });
  const seqs = () =>
    reader
      .query<{ seq: number }, []>("SELECT seq FROM log ORDER BY seq")
      .all()
      .map((r) => r.seq);
  const stop = await consumeAll(bus, 3);
  await eventually(() => seqs().length <= 1, "the older messages deleted");
  await Bun.sleep(100); // five more retention checks
  expect(seqs()).toEqual([3]);
  const next = await bus.publish(newDraft("r", "message", alice, "n1"));
  expect(next.seq).toBe(4);
  reader.close();
  await stop();
  await bus.close();
});
