import { describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { eventually } from "../../testkit/eventually.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { createKafkaBus } from "../bus/kafka.ts";
import { createSqliteBus } from "../bus/sqlite-log.ts";
import type { MessageBus } from "../bus/types.ts";
import { type ChatMessage, newDraft, toChatMessage } from "../chat/message.ts";
import { createMongoBacklog } from "./mongo.ts";
import { createSqliteBacklog } from "./sqlite.ts";
import type { Backlog } from "./types.ts";
import { startBacklogWriter } from "./writer.ts";

const alice = { id: "u-alice", username: "alice" };

/** Our own backlog that refuses the first `failures` appends, like a database that is down then back. */
function flaky(inner: Backlog, failures: number): Backlog & { refused: number } {
  const wrapper = {
    ...inner,
    refused: 0,
    async append(batch: readonly ChatMessage[]) {
      if (wrapper.refused < failures) {
        wrapper.refused++;
        throw new Error("backlog unavailable");
      }
      await inner.append(batch);
    },
  };
  return wrapper;
}

/** Messages stored in the rooms, in all. */
async function stored(backlog: Backlog, rooms: string[]): Promise<number> {
  const counts = await backlog.countsAfter(new Map(rooms.map((r) => [r, 0])), 1_000_000);
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

describe("backlog writer", () => {
  test("copies every published message into the backlog in seq order", async () => {
    const bus = createSqliteBus(":memory:");
    const backlog = createSqliteBacklog(":memory:");
    const stop = await startBacklogWriter(bus, backlog);
    const published = await Promise.all(
      Array.from({ length: 50 }, (_, i) => bus.publish(newDraft(`r${i % 2}`, "message", alice, `m${i}`))),
    );
    await eventually(async () => (await stored(backlog, ["r0", "r1"])) === 50, "50 stored");
    await stop();
    for (const room of ["r0", "r1"]) {
      expect(await backlog.after(room, 0, 100)).toEqual(
        published.filter((m) => m.roomId === room).map(toChatMessage),
      );
    }
    await bus.close();
    await backlog.close();
  });

  test("a backlog outage loses nothing and duplicates nothing; a restarted writer resumes", async () => {
    const bus = createSqliteBus(":memory:", { retryMinMs: 1, retryMaxMs: 5 });
    const store = createSqliteBacklog(":memory:");
    const backlog = flaky(store, 4);
    const stop = await startBacklogWriter(bus, backlog);
    const first = await Promise.all(
      Array.from({ length: 30 }, (_, i) => bus.publish(newDraft("r", "message", alice, `a${i}`))),
    );
    await eventually(async () => (await stored(store, ["r"])) === 30, "the first 30 after the outage");
    expect(backlog.refused).toBe(4);
    await stop();

    const second = await Promise.all(
      Array.from({ length: 20 }, (_, i) => bus.publish(newDraft("r", "message", alice, `b${i}`))),
    );
    const restarted = await startBacklogWriter(bus, flaky(store, 2));
    await eventually(async () => (await stored(store, ["r"])) === 50, "all 50 after the restart");
    await restarted();
    expect(await store.after("r", 0, 100)).toEqual([...first, ...second].map(toChatMessage));
    await bus.close();
    await store.close();
  });
});

describe.skipIf(skipWithout("kafka") || skipWithout("mongo"))("backlog writer on Kafka and MongoDB", () => {
  test("two replicas share the writer group; when one stops the other takes over; nothing lost or doubled", async () => {
    const brokers = (serviceUrl("kafka") ?? "").split(",");
    const url = serviceUrl("mongo") ?? "";
    const topic = `chattalk-writer-${crypto.randomUUID().slice(0, 8)}`;
    const dbName = `chattalk_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const options = { brokers, topic, partitions: 4, sendTimeoutMs: 5_000, retryMinMs: 20, retryMaxMs: 200 };
    const one = await createKafkaBus(options);
    const two = await createKafkaBus(options);
    const store = createMongoBacklog(url, dbName);
    const group = `${topic}-writer`;
    const rooms = Array.from({ length: 8 }, (_, i) => `w${i}`);
    const send = (bus: MessageBus, n: number, tag: string) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          bus.publish(newDraft(rooms[i % 8]!, "message", alice, `${tag}${i}`)),
        ),
      );
    try {
      const stopOne = await startBacklogWriter(one, flaky(store, 3), { group });
      const stopTwo = await startBacklogWriter(two, store, { group });
      const first = await send(one, 200, "a");
      await eventually(
        async () => (await stored(store, rooms)) === 200,
        "the first 200 in the backlog",
        60_000,
      );
      await stopOne();
      const second = await send(two, 200, "b");
      await eventually(
        async () => (await stored(store, rooms)) === 400,
        "all 400 after one writer stopped",
        60_000,
      );
      await stopTwo();
      for (const r of rooms) {
        const expected = [...first, ...second].filter((m) => m.roomId === r).sort((x, y) => x.seq - y.seq);
        expect(await store.after(r, 0, 1_000)).toEqual(expected.map(toChatMessage));
      }
    } finally {
      await one.close();
      await two.close();
      await store.close();
      const client = new MongoClient(url);
      await client.db(dbName).dropDatabase();
      await client.close();
      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic, `${topic}.control`] });
      await admin.disconnect();
    }
  }, 120_000);
});
