import { afterAll, describe, expect, test } from "bun:test";
import { busContract } from "../../testkit/contracts/bus.ts";
import { eventually } from "../../testkit/eventually.ts";
import { cuttableSockets, testTopic } from "../../testkit/kafka.ts";
import { skipWithout } from "../../testkit/services.ts";
import { type ChatMessage, newDraft } from "../chat/message.ts";
import { createKafkaBus, type KafkaBusOptions } from "./kafka.ts";
import { BusUnavailableError, type MessageBus } from "./types.ts";

const alice = { id: "u-alice", username: "alice" };
const slow = 60_000;

describe.skipIf(skipWithout("kafka"))("kafka bus contract", () => {
  const run = testTopic();
  busContract({
    open: () => createKafkaBus(run.options()),
    teardown: run.drop,
    timeoutMs: slow,
  });
});

describe.skipIf(skipWithout("kafka"))("kafka bus", () => {
  const run = testTopic();
  const buses: MessageBus[] = [];
  const open = async (extra: Partial<KafkaBusOptions> = {}) => {
    const bus = await createKafkaBus(run.options(extra));
    buses.push(bus);
    return bus;
  };
  afterAll(async () => {
    for (const bus of buses) await bus.close();
    await run.drop();
  }, slow);

  test.each([1, 3])(
    "concurrent publishes, batched into shared requests over %i producer lane(s), resolve with the offsets consumers read, in order per room",
    async (lanes) => {
      const bus = await open({ maxBatch: 64, producerLanes: lanes });
      const rooms = Array.from({ length: 7 }, (_, i) => `offsets-${lanes}-${i}`);
      const published = await Promise.all(
        Array.from({ length: 700 }, (_, i) =>
          bus.publish(newDraft(rooms[i % 7]!, "message", alice, `o${i}`)),
        ),
      );
      const consumed: ChatMessage[] = [];
      const stop = await bus.consume(`offsets-check-${lanes}`, async (batch) => {
        consumed.push(...batch);
      });
      const ours = () => consumed.filter((m) => rooms.includes(m.roomId));
      await eventually(() => ours().length >= 700, "700 consumed records", 30_000);
      await stop();
      const seqOf = new Map(ours().map((m) => [m.id, m.seq]));
      expect(seqOf.size).toBe(700);
      for (const m of published) expect(seqOf.get(m.id)).toBe(m.seq);
      for (const r of rooms) {
        const seqs = published.filter((m) => m.roomId === r).map((m) => m.seq);
        expect(new Set(seqs).size).toBe(100);
        expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      }
    },
    slow,
  );

  test(
    "a handle's own acknowledged messages reach its subscribers before publish resolves; two writers interleaved in the same rooms are still seen once each, in seq order, by both",
    async () => {
      const [a, b] = [await open(), await open()];
      const rooms = Array.from({ length: 4 }, (_, i) => `own-${i}`);
      const seen = new Map<MessageBus, ChatMessage[]>([
        [a, []],
        [b, []],
      ]);
      for (const [bus, list] of seen) await bus.subscribe((m) => rooms.includes(m.roomId) && list.push(m));
      const seenBeforeResolve: boolean[] = [];
      const publishFrom = (bus: MessageBus, i: number) =>
        bus.publish(newDraft(rooms[i % rooms.length]!, "message", alice, `own ${i}`)).then((m) => {
          seenBeforeResolve.push(seen.get(bus)!.some((x) => x.id === m.id));
          return m;
        });
      // Waves of concurrent publishes: requests share batches.
      const published: ChatMessage[] = [];
      const waves = async (from: (i: number) => MessageBus, first: number) => {
        for (let wave = 0; wave < 5; wave++) {
          const at = first + wave * 40;
          published.push(
            ...(await Promise.all(Array.from({ length: 40 }, (_, i) => publishFrom(from(i), at + i)))),
          );
        }
      };
      // One writer: its reader has every earlier record, so its own are handed over at acknowledgement.
      await waves(() => a, 0);
      expect(seenBeforeResolve).toHaveLength(200);
      expect(seenBeforeResolve.every(Boolean)).toBe(true);
      // Two writers: each one's records sit between the other's in the same partitions, which its
      // reader must fetch first.
      await waves((i) => (i % 2 === 0 ? a : b), 200);
      for (const [, list] of seen) {
        await eventually(() => list.length >= 400, "every message on both handles", 30_000);
        await Bun.sleep(200); // room for a duplicate to show up
        expect(list.map((m) => m.id).sort()).toEqual(published.map((m) => m.id).sort());
        for (const r of rooms) {
          const seqs = list.filter((m) => m.roomId === r).map((m) => m.seq);
          expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
          expect(new Set(seqs).size).toBe(seqs.length);
        }
      }
    },
    slow,
  );

  test(
    "many of the largest messages at once into one room: requests stay under the broker's batch limit",
    async () => {
      const bus = await open();
      // 4,000 three-byte characters: ~12 KB per record; 200 of them are 2.4 MB, over the broker's
      // 1 MB per-partition batch limit unless the producer splits them by bytes.
      const text = "가".repeat(4_000);
      const published = await Promise.all(
        Array.from({ length: 200 }, () => bus.publish(newDraft("large-room", "message", alice, text))),
      );
      const seqs = published.map((m) => m.seq);
      expect(new Set(seqs).size).toBe(200);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    },
    slow,
  );

  test(
    "with the broker unreachable, publish fails within the bound, refuses beyond the cap, then recovers",
    async () => {
      const sockets = cuttableSockets();
      const cut = await open({ socketFactory: sockets.factory, sendTimeoutMs: 1_000, maxPending: 5 });
      const other = await open();
      const mine = (m: ChatMessage) => m.roomId === "outage";
      const seenByOther: ChatMessage[] = [];
      const seenByCut: ChatMessage[] = [];
      const writtenByCut: ChatMessage[] = [];
      await other.subscribe((m) => mine(m) && seenByOther.push(m));
      await cut.subscribe((m) => mine(m) && seenByCut.push(m));
      const stopWriter = await cut.consume("outage-writer", async (batch) => {
        writtenByCut.push(...batch.filter(mine));
      });
      const before = await cut.publish(newDraft("outage", "message", alice, "before"));
      await eventually(() => writtenByCut.length === 1, "the writer to see the first message");

      await sockets.cutOff();
      const during = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => cut.publish(newDraft("outage", "message", alice, `during ${i}`))),
      );
      expect(during.every((r) => r.status === "rejected" && r.reason instanceof BusUnavailableError)).toBe(
        true,
      );
      const refused = during.filter((r) => r.status === "rejected" && /too many/.test(String(r.reason)));
      expect(refused).toHaveLength(3);
      // Refused before they went out: certainly not written (the others may or may not have been).
      for (const r of refused) expect((r as PromiseRejectedResult).reason.outcome).toBe("not_written");
      // Kafka itself is up: another replica keeps sending while this one is cut off.
      const sentMeanwhile = await other.publish(newDraft("outage", "message", alice, "meanwhile"));

      sockets.restore();
      let after: ChatMessage | undefined;
      await eventually(
        async () => {
          after = await cut.publish(newDraft("outage", "message", alice, "after")).catch(() => undefined);
          return after !== undefined;
        },
        "a publish to succeed once the broker is reachable",
        30_000,
      );
      const ids = (list: ChatMessage[]) => list.map((m) => m.id);
      await eventually(() => ids(seenByOther).includes(after!.id), "the other replica to see it");
      await eventually(
        () => ids(seenByCut).includes(after!.id),
        "the cut replica's subscriber to resume",
        45_000,
      );
      await eventually(
        () => ids(writtenByCut).includes(after!.id),
        "the cut replica's writer to catch up",
        45_000,
      );
      await stopWriter();
      expect(after!.seq).toBeGreaterThan(sentMeanwhile.seq);
      expect(seenByOther[0]!.id).toBe(before.id);
      // The writer lost nothing: what was sent while it was cut off is there, in order, once.
      const written = ids(writtenByCut);
      expect(written.indexOf(before.id)).toBe(0);
      expect(written).toContain(sentMeanwhile.id);
      expect(new Set(written).size).toBe(written.length);
      expect(writtenByCut.map((m) => m.seq)).toEqual(
        [...writtenByCut.map((m) => m.seq)].sort((x, y) => x - y),
      );
    },
    slow,
  );
});
