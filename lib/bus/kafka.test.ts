import { afterAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { type ISocketFactory, Kafka, logLevel } from "kafkajs";
import { busContract } from "../../testkit/contracts/bus.ts";
import { eventually } from "../../testkit/eventually.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { type ChatMessage, newDraft } from "../chat/message.ts";
import { createKafkaBus, type KafkaBusOptions } from "./kafka.ts";
import { BusUnavailableError, type MessageBus } from "./types.ts";

const alice = { id: "u-alice", username: "alice" };
const slow = 60_000;

/** A fresh topic per run, deleted afterwards with its control topic. */
function testTopic() {
  // Read even when the suite is skipped (describe bodies still run), so tolerate an absent URL.
  const brokers = (serviceUrl("kafka") ?? "").split(",");
  const topic = `chattalk-test-${crypto.randomUUID().slice(0, 8)}`;
  const options = (extra: Partial<KafkaBusOptions> = {}): KafkaBusOptions => ({
    brokers,
    topic,
    partitions: 3,
    sendTimeoutMs: 5_000,
    retryMinMs: 20,
    retryMaxMs: 200,
    ...extra,
  });
  const drop = async () => {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic, `${topic}.control`] });
    } finally {
      await admin.disconnect();
    }
  };
  return { brokers, topic, options, drop };
}

/**
 * Sockets that can be cut: while cut, every connection this client opens goes to a closed port, as if
 * the broker were down for this client alone (the shared broker keeps serving other tests).
 */
function cuttableSockets() {
  const open = new Set<net.Socket>();
  let cut = false;
  const factory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = cut ? net.connect({ host: "127.0.0.1", port: 1 }) : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    return socket;
  };
  return {
    factory,
    cutOff() {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      cut = false;
    },
  };
}

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

  test(
    "concurrent publishes, batched into shared requests, resolve with the offsets consumers read",
    async () => {
      const bus = await open({ maxBatch: 64 });
      const rooms = Array.from({ length: 7 }, (_, i) => `offsets-${i}`);
      const published = await Promise.all(
        Array.from({ length: 700 }, (_, i) =>
          bus.publish(newDraft(rooms[i % 7]!, "message", alice, `o${i}`)),
        ),
      );
      const consumed: ChatMessage[] = [];
      const stop = await bus.consume("offsets-check", async (batch) => {
        consumed.push(...batch);
      });
      await eventually(() => consumed.length >= 700, "700 consumed records", 30_000);
      await stop();
      const seqOf = new Map(consumed.map((m) => [m.id, m.seq]));
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

      sockets.cutOff();
      const during = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => cut.publish(newDraft("outage", "message", alice, `during ${i}`))),
      );
      expect(during.every((r) => r.status === "rejected" && r.reason instanceof BusUnavailableError)).toBe(
        true,
      );
      const refused = during.filter((r) => r.status === "rejected" && /too many/.test(String(r.reason)));
      expect(refused).toHaveLength(3);
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
