import { afterAll, describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { eventually } from "../../testkit/eventually.ts";
import { cuttableSockets, testTopic } from "../../testkit/kafka.ts";
import { skipWithout } from "../../testkit/services.ts";
import { type ChatMessage, type LoggedMessage, newDraft } from "../chat/message.ts";
import { durableGroupId } from "./durable-group.ts";
import { createKafkaBus, type KafkaBusOptions } from "./kafka.ts";
import type { MessageBus } from "./types.ts";

/**
 * The Kafka bus under the faults the fault suite found it slow to recover from: its readers cut off
 * from the broker for longer than a group session, a group it cannot join yet, a batch handler slower
 * than the session timeout. (A real broker restart is in `bun run faults`; these run on the shared
 * broker with this process's connections cut, so other tests are not disturbed.)
 */
const alice = { id: "u-alice", username: "alice" };
const slow = 90_000;

describe.skipIf(skipWithout("kafka"))("kafka bus under faults", () => {
  const run = testTopic();
  /** A topic of one partition, so a group's offsets are this test's alone. */
  const single = testTopic();
  const buses: MessageBus[] = [];
  const open = async (extra: Partial<KafkaBusOptions> = {}, on = run) => {
    const bus = await createKafkaBus(on.options(extra));
    buses.push(bus);
    return bus;
  };
  const admin = () => new Kafka({ brokers: run.brokers, logLevel: logLevel.NOTHING }).admin();
  afterAll(async () => {
    for (const bus of buses) await bus.close();
    await run.drop();
    await single.drop();
  }, slow);

  test(
    "the fan-out and control readers are in no consumer group: nothing to join, rebalance or time out",
    async () => {
      const nodeId = `nogroup-${crypto.randomUUID().slice(0, 8)}`;
      const bus = await open({ nodeId });
      await bus.subscribe(() => {});
      await bus.subscribeControl(() => {});
      const a = admin();
      await a.connect();
      try {
        const { groups } = await a.listGroups();
        expect(groups.filter((g) => g.groupId.includes(nodeId))).toEqual([]);
      } finally {
        await a.disconnect();
      }
    },
    slow,
  );

  test(
    "cut off from the broker for longer than a group session, a subscriber receives again within seconds",
    async () => {
      const sockets = cuttableSockets();
      const cut = await open({ socketFactory: sockets.factory, sendTimeoutMs: 1_000 });
      const other = await open();
      const room = `tail-${crypto.randomUUID().slice(0, 8)}`;
      const seen: ChatMessage[] = [];
      await cut.subscribe((m) => m.roomId === room && seen.push(m));
      const before = await other.publish(newDraft(room, "message", alice, "before"));
      await eventually(() => seen.some((m) => m.id === before.id), "the first message");

      await sockets.cutOff();
      // Longer than the 10 s session timeout a group member would have been dropped after.
      const during = [];
      for (let i = 0; i < 6; i++) {
        during.push(await other.publish(newDraft(room, "message", alice, `during ${i}`)));
        await Bun.sleep(2_000);
      }
      sockets.restore();
      const restoredAt = performance.now();
      const after = await other.publish(newDraft(room, "message", alice, "after"));
      await eventually(() => seen.some((m) => m.id === after.id), "the message sent after", 30_000);
      const tookMs = performance.now() - restoredAt;
      // Nothing lost or repeated while cut off, in order.
      expect(seen.map((m) => m.id)).toEqual([before, ...during, after].map((m) => m.id));
      // kafkajs's group consumer took 10-40 s here (retries exhausted, a restart backoff, a rejoin).
      expect(tookMs).toBeLessThan(8_000);
    },
    slow,
  );

  test(
    "consume() does not wait for its group: it resolves while Kafka is unreachable and writes once it is back",
    async () => {
      const sockets = cuttableSockets();
      const bus = await open({ socketFactory: sockets.factory });
      const room = `join-${crypto.randomUUID().slice(0, 8)}`;
      const sent = await bus.publish(newDraft(room, "message", alice, "waiting"));
      await sockets.cutOff();
      const written: LoggedMessage[] = [];
      const stop = await bus.consume(`join-${crypto.randomUUID().slice(0, 8)}`, async (batch) => {
        written.push(...batch.filter((m) => m.roomId === room));
      });
      await Bun.sleep(1_000);
      expect(written).toEqual([]);
      sockets.restore();
      await eventually(() => written.length === 1, "the writer to start once Kafka is reachable", 45_000);
      expect(written[0]!.id).toBe(sent.id);
      await stop();
    },
    slow,
  );

  test(
    "a writer cut off longer than kafkajs's retries writes again within seconds of the broker answering",
    async () => {
      const sockets = cuttableSockets();
      const bus = await open({ socketFactory: sockets.factory });
      const other = await open();
      const room = `restart-${crypto.randomUUID().slice(0, 8)}`;
      const written: string[] = [];
      const stop = await bus.consume(`restart-${crypto.randomUUID().slice(0, 8)}`, async (batch) => {
        written.push(...batch.filter((m) => m.roomId === room).map((m) => m.id));
      });
      const first = await other.publish(newDraft(room, "message", alice, "first"));
      await eventually(() => written.includes(first.id), "the writer to run", 45_000);
      await sockets.cutOff();
      // Long enough for kafkajs to run out of retries and schedule a restart of the consumer.
      await Bun.sleep(20_000);
      sockets.restore();
      const restoredAt = performance.now();
      const after = await other.publish(newDraft(room, "message", alice, "after"));
      await eventually(() => written.includes(after.id), "the writer to write again", 60_000);
      // kafkajs's default schedule restarted it 10-30 s after its last failure; ours within seconds.
      expect(performance.now() - restoredAt).toBeLessThan(10_000);
      await stop();
    },
    slow,
  );

  test(
    "a handler slower than the session timeout keeps the group: nothing is handed over twice",
    async () => {
      const bus = await open();
      const room = `slow-${crypto.randomUUID().slice(0, 8)}`;
      const sent = [];
      for (let i = 0; i < 5; i++) sent.push(await bus.publish(newDraft(room, "message", alice, `s${i}`)));
      const handed: string[] = [];
      let first = true;
      const stop = await bus.consume(`slow-${crypto.randomUUID().slice(0, 8)}`, async (batch) => {
        const mine = batch.filter((m) => m.roomId === room);
        if (mine.length > 0 && first) {
          first = false;
          // Longer than the 10 s session: without heartbeats meanwhile the member is dropped, its
          // commit refused, and the batch handed to a new member again.
          await Bun.sleep(13_000);
        }
        handed.push(...mine.map((m) => m.id));
      });
      await eventually(() => handed.length >= 5, "the slow batch to be written", 60_000);
      // A redelivery would come right after the refused commit; give it time to show.
      await Bun.sleep(3_000);
      await stop();
      expect(handed).toEqual(sent.map((m) => m.id));
    },
    slow,
  );

  test(
    "a long batch is written in chunks, each committed: a failure keeps what was written before it",
    async () => {
      const bus = await open({ maxChunk: 10, partitions: 1 }, single);
      const room = `chunk-${crypto.randomUUID().slice(0, 8)}`;
      const group = `chunk-${crypto.randomUUID().slice(0, 8)}`;
      const sent = await Promise.all(
        Array.from({ length: 35 }, (_, i) => bus.publish(newDraft(room, "message", alice, `c${i}`))),
      );
      const sizes: number[] = [];
      let failing = true;
      const stop = await bus.consume(group, async (batch) => {
        const mine = batch.filter((m) => m.roomId === room);
        // The third chunk fails until told otherwise.
        if (mine.some((m) => m.seq > sent[19]!.seq) && failing) throw new Error("backlog down");
        sizes.push(batch.length);
      });
      await eventually(() => sizes.length >= 2, "two chunks written", 30_000);
      await Bun.sleep(500);
      const a = admin();
      await a.connect();
      try {
        const [offsets] = await a.fetchOffsets({
          groupId: durableGroupId(group, single.topic),
          topics: [single.topic],
        });
        // Offsets are seq - 1; the commit is the next offset to read: right after the second chunk.
        expect(offsets!.partitions.map((p) => Number(p.offset))).toEqual([sent[19]!.seq]);
      } finally {
        await a.disconnect();
      }
      expect(sizes.every((n) => n <= 10)).toBe(true);
      failing = false;
      await eventually(() => sizes.reduce((x, y) => x + y, 0) >= 35, "the rest once it recovers", 30_000);
      await stop();
    },
    slow,
  );
});
