import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busContract } from "../../testkit/contracts/bus.ts";
import { eventually } from "../../testkit/eventually.ts";
import { type ChatMessage, newDraft } from "../chat/message.ts";
import { createSqliteBus, type SqliteBusOptions } from "./sqlite-log.ts";
import { BusUnavailableError, type MessageBus } from "./types.ts";

const dir = mkdtempSync(join(tmpdir(), "chattalk-bus-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const alice = { id: "u-alice", username: "alice" };

describe("sqlite-log bus contract (file)", () => {
  const path = join(dir, "contract.db");
  busContract({ open: async () => createSqliteBus(path, { retryMinMs: 5, retryMaxMs: 20 }) });
});

describe("sqlite-log bus", () => {
  test("a consumer woken by an append lingers: appends of the next moments reach it as one batch", async () => {
    const bus = createSqliteBus(join(dir, "linger.db"), { consumeLingerMs: 300 });
    const batches: number[] = [];
    const stop = await bus.consume("g", async (batch) => {
      batches.push(batch.length);
    });
    for (let i = 0; i < 20; i++) {
      await bus.publish(newDraft("r", "message", alice, `${i}`));
      await Bun.sleep(0); // each in a turn of its own: without the linger, each its own batch
    }
    await eventually(() => batches.reduce((a, n) => a + n, 0) === 20, "all twenty consumed");
    expect(batches.length).toBeLessThanOrEqual(2);
    await stop();
    await bus.close();
  });

  test("a consumer whose handler awaits lingers after each batch: steady appends reach it in few batches", async () => {
    const bus = createSqliteBus(join(dir, "linger-steady.db"), { consumeLingerMs: 50 });
    const batches: number[] = [];
    const stop = await bus.consume("g", async (batch) => {
      batches.push(batch.length);
      await Bun.sleep(5); // like the backlog's round trip to its writer thread
    });
    for (let i = 0; i < 150; i++) {
      await bus.publish(newDraft("r", "message", alice, `${i}`));
      await Bun.sleep(1);
    }
    await eventually(() => batches.reduce((a, n) => a + n, 0) === 150, "all consumed");
    // ~150 ms of appends at one per ms: one batch per 55 ms, not one per 5 ms handler round trip.
    expect(batches.length).toBeLessThanOrEqual(10);
    await stop();
    await bus.close();
  });

  test("the log and committed positions survive closing and reopening the file", async () => {
    const path = join(dir, "reopen.db");
    const first = createSqliteBus(path);
    const before = await Promise.all(
      [1, 2, 3].map((i) => first.publish(newDraft("r", "message", alice, `${i}`))),
    );
    const handled: ChatMessage[] = [];
    const stop = await first.consume("g", async (batch) => {
      handled.push(...batch);
    });
    await eventually(() => handled.length === 3, "the first three");
    await stop();
    await first.close();

    const second = createSqliteBus(path);
    const later = await second.publish(newDraft("r", "message", alice, "4"));
    expect(later.seq).toBeGreaterThan(before[2]!.seq);
    // The same file is the same log: its epoch is kept; another file is another log.
    expect(later.epoch).toBe(before[0]!.epoch);
    const other = createSqliteBus(join(dir, "other.db"));
    expect(other.epochOf("r")).not.toBe(later.epoch);
    await other.close();
    const resumed: ChatMessage[] = [];
    const stopResumed = await second.consume("g", async (batch) => {
      resumed.push(...batch);
    });
    await eventually(() => resumed.length === 1, "the message published after the restart");
    await stopResumed();
    expect(resumed).toEqual([later]);
    const fresh: ChatMessage[] = [];
    const stopFresh = await second.consume("new-group", async (batch) => {
      fresh.push(...batch);
    });
    await eventually(() => fresh.length === 4, "a new group to read from the start");
    await stopFresh();
    expect(fresh.map((m) => m.text)).toEqual(["1", "2", "3", "4"]);
    await second.close();
  });

  test("the past handed to a new subscriber goes back by the messages' sentAt, across a reopen", async () => {
    const path = join(dir, "past.db");
    const first = createSqliteBus(path);
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    for (const [text, ms] of [
      ["old", 600_000],
      ["older-ok", 50_000],
      ["recent", 1_000],
    ] as const) {
      await first.publish({ ...newDraft("r", "message", alice, text), sentAt: ago(ms) });
    }
    await first.close();
    const second = createSqliteBus(path);
    const past: string[] = [];
    const stop = await second.subscribe((m, isPast) => isPast && past.push(m.text), { pastMs: 60_000 });
    expect(past).toEqual(["older-ok", "recent"]);
    await stop();
    await second.close();
  });

  test("a second consumer of a group waits until the first stops, then resumes from its commit", async () => {
    const bus = createSqliteBus(":memory:");
    const one: string[] = [];
    const two: string[] = [];
    const stopOne = await bus.consume("g", async (batch) => {
      one.push(...batch.map((m) => m.text));
    });
    const stopTwo = await bus.consume("g", async (batch) => {
      two.push(...batch.map((m) => m.text));
    });
    await bus.publish(newDraft("r", "message", alice, "a"));
    await eventually(() => one.length === 1, "the active member");
    await stopOne();
    await bus.publish(newDraft("r", "message", alice, "b"));
    await eventually(() => two.length === 1, "the standby member to take over");
    await stopTwo();
    expect(one).toEqual(["a"]);
    expect(two).toEqual(["b"]);
    await bus.close();
  });

  test("delivery keeps seq order when a subscriber publishes from inside its handler", async () => {
    const bus = createSqliteBus(":memory:");
    const seen: number[] = [];
    await bus.subscribe((m) => {
      if (m.text === "first") void bus.publish(newDraft("r", "message", alice, "reply"));
    });
    await bus.subscribe((m) => seen.push(m.seq));
    await bus.publish(newDraft("r", "message", alice, "first"));
    await eventually(() => seen.length === 2, "both messages");
    expect(seen[1]!).toBeGreaterThan(seen[0]!);
    await bus.close();
  });

  /** A bus on a new file, and how many rows another connection to that file sees committed. */
  function busWithReader(name: string, options?: SqliteBusOptions) {
    const path = join(dir, name);
    const bus = createSqliteBus(path, options);
    const reader = new Database(path, { readonly: true });
    const committed = () => reader.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM log").get()!.n;
    const close = async () => {
      reader.close();
      await bus.close();
    };
    return { bus, committed, close };
  }

  /**
   * Publishes `n` messages, each from a callback of its own in one event-loop turn (like frames of
   * several connections handled in one turn, each draining its own microtasks); per message, the rows
   * committed when its publish was answered.
   */
  function publishInSeparateCallbacks(
    bus: MessageBus,
    committed: () => number,
    n: number,
  ): Promise<number[]> {
    return Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<number>((answered, failed) => {
            setTimeout(() => {
              bus.publish(newDraft("r", "message", alice, `${i}`)).then(() => answered(committed()), failed);
            }, 0);
          }),
      ),
    );
  }

  test("appends made together are one transaction: each resolves once its row is committed, in order", async () => {
    const { bus, committed, close } = busWithReader("group.db");
    const seen: number[] = [];
    const appends = Array.from({ length: 30 }, (_, i) =>
      bus.publish(newDraft("r", "message", alice, `${i}`)).then((m) => {
        // Another connection to the file sees the whole group: the answer came after COMMIT.
        expect(committed()).toBe(30);
        seen.push(m.seq);
        return m;
      }),
    );
    expect(committed()).toBe(0); // nothing written before the turn ends
    const messages = await Promise.all(appends);
    expect(messages.map((m) => m.text)).toEqual(Array.from({ length: 30 }, (_, i) => `${i}`));
    expect(seen).toEqual(messages.map((m) => m.seq));
    expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => messages[0]!.seq + i));
    await close();
  });

  test("appends made in separate callbacks of one event-loop turn are one transaction", async () => {
    const { bus, committed, close } = busWithReader("group-turn.db");
    const seenAtAnswer = await publishInSeparateCallbacks(bus, committed, 10);
    expect(seenAtAnswer).toEqual(Array.from({ length: 10 }, () => 10));
    await close();
  });

  test("at turnGroupMax waiting appends the group is committed at once, not at the end of the turn", async () => {
    const { bus, committed, close } = busWithReader("group-max.db", { turnGroupMax: 4 });
    const seenAtAnswer = await publishInSeparateCallbacks(bus, committed, 10);
    // Answered right after their group's COMMIT, each group of at most 4.
    expect(seenAtAnswer.slice(0, 4)).toEqual([4, 4, 4, 4]);
    expect(seenAtAnswer.slice(4, 8)).toEqual([8, 8, 8, 8]);
    expect(seenAtAnswer.slice(8)).toEqual([10, 10]);
    await close();
  });

  test("a consumer keeping up is handed what was just committed, and what another process wrote between", async () => {
    const path = join(dir, "recent.db");
    const bus = createSqliteBus(path, { consumeLingerMs: 0 });
    const got: string[] = [];
    const stop = await bus.consume("g", async (batch) => {
      for (const m of batch) got.push(m.text);
    });
    await bus.publish(newDraft("r", "message", alice, "a"));
    await eventually(() => got.length === 1, "a consumed");
    // Another process appends to the file: a gap in what this one committed.
    const other = new Database(path);
    other.run("INSERT INTO log (room_id, body) VALUES (?, ?)", [
      "r",
      JSON.stringify(newDraft("r", "message", alice, "b")),
    ]);
    other.close();
    await bus.publish(newDraft("r", "message", alice, "c"));
    await eventually(() => got.length === 3, "all consumed");
    expect(got).toEqual(["a", "b", "c"]);
    await stop();
    await bus.close();
  });

  test("a failed group commit writes none of its appends and rejects each as not written", async () => {
    const path = join(dir, "group-fail.db");
    const bus = createSqliteBus(path);
    await bus.publish(newDraft("r", "message", alice, "before"));
    const other = new Database(path);
    other.run(
      "CREATE TRIGGER refuse BEFORE INSERT ON log WHEN NEW.body LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    const group = ["a", "boom", "c"].map((text) => bus.publish(newDraft("r", "message", alice, text)));
    const outcomes = await Promise.allSettled(group);
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      const err = (o as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(BusUnavailableError);
      expect((err as BusUnavailableError).outcome).toBe("not_written");
    }
    const texts = () =>
      other
        .query<{ body: string }, []>("SELECT body FROM log ORDER BY seq")
        .all()
        .map((r) => (JSON.parse(r.body) as { text: string }).text);
    expect(texts()).toEqual(["before"]);
    const after = await bus.publish(newDraft("r", "message", alice, "after"));
    expect(texts()).toEqual(["before", "after"]);
    expect(after.seq).toBeGreaterThan(1);
    other.close();
    await bus.close();
  });

  test("separate :memory: buses do not share a log, and a closed bus refuses to publish", async () => {
    const one = createSqliteBus(":memory:");
    const two = createSqliteBus(":memory:");
    const seen: ChatMessage[] = [];
    await two.subscribe((m) => seen.push(m));
    await one.publish(newDraft("r", "message", alice, "x"));
    await two.publish(newDraft("r", "message", alice, "y"));
    await eventually(() => seen.length === 1, "its own message");
    expect(seen.map((m) => m.text)).toEqual(["y"]);
    await one.close();
    await two.close();
    await expect(one.publish(newDraft("r", "message", alice, "z"))).rejects.toBeInstanceOf(
      BusUnavailableError,
    );
  });
});

test("a consumer stopped while it lingers still hands over what was appended before the stop", async () => {
  const bus = createSqliteBus(":memory:", { consumeLingerMs: 500 });
  const got: number[] = [];
  const stop = await bus.consume("linger-stop", async (batch) => {
    for (const m of batch) got.push(m.seq);
  });
  await bus.publish(newDraft("r", "message", { id: "u", username: "u" }, "one"));
  await Bun.sleep(20); // the consumer is woken and lingering
  await stop();
  expect(got).toEqual([1]);
  await bus.close();
});

test("under steady appends and a group's commits the WAL starts over in held moments, and nothing is lost", async () => {
  const path = join(dir, "restarts.db");
  const options: SqliteBusOptions = { checkpoints: { everyMs: 20, restartWalBytes: 256 * 1024 } };
  const bus = createSqliteBus(path, options);
  let consumed = 0;
  const stop = await bus.consume("g", async (batch) => {
    consumed += batch.length;
  });
  const text = "x".repeat(500);
  const appends: Promise<ChatMessage>[] = [];
  let largestWal = 0;
  const until = performance.now() + 1_500;
  while (performance.now() < until) {
    for (let i = 0; i < 8; i++) appends.push(bus.publish(newDraft("r", "message", alice, text)));
    largestWal = Math.max(largestWal, statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    await Bun.sleep(1);
  }
  const messages = await Promise.all(appends);
  // Every append answered, in order, and the group handed every one of them.
  expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => messages[0]!.seq + i));
  await eventually(() => consumed === messages.length, "the group to have every message", 5_000);
  // Megabytes appended, while the WAL kept starting over.
  expect(messages.length * text.length).toBeGreaterThan(4 * 1024 * 1024);
  expect(largestWal).toBeLessThan(2 * 1024 * 1024);
  await stop();
  await bus.close();
  // The group's position was written, held or not.
  const db = new Database(path, { readonly: true });
  const committed = db.query<{ seq: number }, []>("SELECT seq FROM consumer_offsets WHERE grp = 'g'").get();
  db.close();
  expect(committed?.seq).toBe(messages.at(-1)!.seq);
});

test("an append alone in its turn writes about one page to the WAL, not two", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-bus-frames-"));
  const path = join(dir, "bus.db");
  // No checkpoint during the test, so the WAL only grows.
  const bus = createSqliteBus(path, { checkpoints: { everyMs: 600_000, restartWalBytes: 1 << 30 } });
  try {
    await bus.publish(newDraft("r", "message", alice, "first"));
    const before = statSync(`${path}-wal`).size;
    const n = 60;
    for (let i = 0; i < n; i++) await bus.publish(newDraft("r", "message", alice, `m${i}`));
    const frames = (statSync(`${path}-wal`).size - before) / (1024 + 24);
    // One leaf page each, and now and then the pages of a split; a last seq kept in a table of its
    // own (AUTOINCREMENT) would add a page to every commit.
    expect(frames / n).toBeLessThan(1.6);
  } finally {
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
