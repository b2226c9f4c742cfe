import { describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { eventually } from "../../testkit/eventually.ts";
import { testTopic } from "../../testkit/kafka.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { chooseBacklog, chooseBacklogWriter, openBus } from "../backends.ts";
import type { MessageBus } from "../bus/types.ts";
import { type LoggedMessage, newDraft, toChatMessage } from "../chat/message.ts";
import { parseConfig } from "../config/index.ts";
import type { Logger } from "../log/index.ts";
import { EpochCheck } from "./epochs.ts";
import type { Backlog } from "./types.ts";
import { BacklogWriterThread } from "./writer-thread.ts";

const alice = { id: "u-alice", username: "alice" };

/**
 * The cluster's settings on a topic and database of the test's own: the writer thread, a bus and a
 * backlog of this (the node's) thread to publish and read with, and a log recording what reaches it.
 */
async function cluster() {
  const topic = testTopic();
  const mongoUrl = serviceUrl("mongo") ?? "";
  const dbName = `chattalk_test_wt_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const config = parseConfig({
    DATA_DIR: join(tmpdir(), "chattalk-writer-thread"),
    KAFKA_BROKERS: topic.brokers.join(","),
    KAFKA_TOPIC: topic.topic,
    KAFKA_PARTITIONS: "3",
    MONGO_URL: mongoUrl,
    MONGO_DB: dbName,
  });
  const lines: { level: string; msg: string; [field: string]: unknown }[] = [];
  const log: Logger = (level, msg, fields) => lines.push({ level, msg, ...fields });
  const writer = chooseBacklogWriter(config, log).open();
  expect(writer).toBeInstanceOf(BacklogWriterThread);
  const thread = writer as BacklogWriterThread;
  const bus = await openBus(config, log);
  const backlog = await chooseBacklog(config).open();
  return {
    config,
    thread,
    bus,
    backlog,
    lines,
    log,
    /** The node's own bus must not be read by a writer in a thread: here, reading it fails the test. */
    unread: {
      ...bus,
      consume: () => Promise.reject(new Error("the node's own bus was consumed")),
    } as MessageBus,
    groupId: `chattalk-backlog-writer.${topic.topic}`,
    async cleanup() {
      await thread.stop();
      await bus.close();
      await backlog.close();
      await topic.drop();
      const client = new MongoClient(mongoUrl);
      await client.db(dbName).dropDatabase();
      await client.close();
    },
  };
}

/** Runs `use` on a cluster of the test's own, cleaned up afterwards whatever happened. */
async function withCluster(use: (c: Awaited<ReturnType<typeof cluster>>) => Promise<void>): Promise<void> {
  const c = await cluster();
  try {
    await use(c);
  } finally {
    await c.cleanup();
  }
}

const publish = (bus: MessageBus, rooms: string[], n: number, tag: string) =>
  Promise.all(
    Array.from({ length: n }, (_, i) =>
      bus.publish(newDraft(rooms[i % rooms.length]!, "message", alice, `${tag}${i}`)),
    ),
  );

/** Each room's stored history is exactly its published messages, in seq order: none lost, none twice. */
async function storedExactly(
  backlog: Backlog,
  rooms: string[],
  published: LoggedMessage[],
): Promise<boolean> {
  for (const room of rooms) {
    const want = published.filter((m) => m.roomId === room).sort((a, b) => a.seq - b.seq);
    const got = await backlog.after(room, 0, 10_000);
    if (got.length < want.length) return false;
    expect(got).toEqual(want.map(toChatMessage));
  }
  return true;
}

describe.skipIf(skipWithout("kafka") || skipWithout("mongo"))("the backlog writer in a thread", () => {
  test("writes what the bus carries into the backlog, without reading the node's own bus", async () => {
    await withCluster(async (c) => {
      const rooms = ["t0", "t1", "t2", "t3"];
      await c.thread.start(c.unread, c.backlog, { log: c.log });
      expect(c.thread.worker).toBeDefined();
      const sent = await publish(c.bus, rooms, 40, "m");
      await eventually(() => storedExactly(c.backlog, rooms, sent), "the 40 messages in the backlog", 60_000);
    });
  }, 90_000);

  test("a thread that was ended is started again; what was published meanwhile arrives once each", async () => {
    await withCluster(async (c) => {
      const rooms = ["k0", "k1", "k2"];
      await c.thread.start(c.unread, c.backlog, { log: c.log });
      const first = await publish(c.bus, rooms, 30, "a");
      await eventually(() => storedExactly(c.backlog, rooms, first), "the first 30 stored", 60_000);
      const killed = c.thread.worker!;
      killed.terminate();
      // Published while no thread runs: the bus keeps them for the next one.
      const second = await publish(c.bus, rooms, 30, "b");
      await eventually(
        () => c.thread.worker !== undefined && c.thread.worker !== killed,
        "a new thread",
        10_000,
      );
      expect(c.thread.restarts).toBe(1);
      expect(
        c.lines.some(
          (l) => l.level === "warn" && l.msg === "backlog writer thread ended; starting a new one",
        ),
      ).toBe(true);
      await eventually(
        () => storedExactly(c.backlog, rooms, [...first, ...second]),
        "all 60 stored after the restart",
        60_000,
      );
    });
  }, 120_000);

  test("a thread that cannot open its bus says why, ends, and is started again after a growing wait", async () => {
    const lines: { level: string; msg: string; [field: string]: unknown }[] = [];
    const log: Logger = (level, msg, fields) => lines.push({ level, msg, ...fields });
    // Nothing listens on port 9: the thread's Kafka client gives up after its retries.
    const config = parseConfig({
      DATA_DIR: join(tmpdir(), "chattalk-writer-thread"),
      KAFKA_BROKERS: "127.0.0.1:9",
      MONGO_URL: serviceUrl("mongo") ?? "",
    });
    const thread = chooseBacklogWriter(config, log).open() as BacklogWriterThread;
    const stop = await thread.start({} as MessageBus, {} as Backlog, { log });
    try {
      await eventually(() => thread.restarts >= 2, "two restarts", 90_000);
      // The thread's own line, forwarded with its fields, then this side's, with the wait doubling.
      expect(lines.find((l) => l.msg.startsWith("backlog writer thread could not start"))).toMatchObject({
        level: "error",
        err: expect.stringContaining("Kafka"),
      });
      const waits = lines
        .filter((l) => l.msg === "backlog writer thread ended; starting a new one")
        .map((l) => l.inMs);
      expect(waits.slice(0, 2)).toEqual([500, 1_000]);
    } finally {
      await stop();
    }
    expect(thread.worker).toBeUndefined();
  }, 120_000);

  test("stop leaves its consumer group at once and ends the thread", async () => {
    await withCluster(async (c) => {
      await c.thread.start(c.unread, c.backlog, { log: c.log });
      const sent = await publish(c.bus, ["s0"], 5, "s");
      await eventually(() => storedExactly(c.backlog, ["s0"], sent), "the 5 stored", 60_000);
      const worker = c.thread.worker!;
      let closed = false;
      worker.addEventListener("close", () => {
        closed = true;
      });
      await c.thread.stop();
      expect(closed).toBe(true);
      expect(c.thread.worker).toBeUndefined();
      // Left, not just gone silent: a member that did not leave stays until its session times out (10 s).
      const { Kafka, logLevel } = await import("kafkajs");
      const admin = new Kafka({ brokers: c.config.KAFKA_BROKERS!, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const { groups } = await admin.describeGroups([c.groupId]);
      await admin.disconnect();
      expect(groups[0]?.members).toEqual([]);
    });
  }, 90_000);

  test("a stopped thread does not keep the process alive", async () => {
    await withCluster(async (c) => {
      const child = Bun.spawn(
        ["bun", join(import.meta.dir, "../../testkit/fixtures/writer-thread-child.ts")],
        {
          env: {
            ...process.env,
            KAFKA_BROKERS: c.config.KAFKA_BROKERS!.join(","),
            KAFKA_TOPIC: c.config.KAFKA_TOPIC,
            KAFKA_PARTITIONS: "3",
            MONGO_URL: c.config.MONGO_URL!,
            MONGO_DB: c.config.MONGO_DB,
            DATA_DIR: c.config.DATA_DIR,
            LOG_LEVEL: "silent",
          },
          stdout: "pipe",
          stderr: "inherit",
        },
      );
      const exited = await Promise.race([child.exited, Bun.sleep(30_000).then(() => "still running")]);
      if (exited === "still running") child.kill();
      expect(exited).toBe(0);
      expect(await new Response(child.stdout).text()).toContain("stored; stopped");
    });
  }, 90_000);

  test("its epoch refusals are counted in the node's EpochCheck and logged through the node's logger", async () => {
    await withCluster(async (c) => {
      // The room's history came from another log (a topic created anew next to a kept backlog).
      await c.backlog.claimEpoch("e0", "kafka:another-log/0");
      const epochs = new EpochCheck(c.backlog, c.log);
      await c.thread.start(c.unread, c.backlog, { log: c.log, epochs });
      const [fresh] = await publish(c.bus, ["e0"], 1, "e");
      await eventually(() => epochs.conflicts >= 2, "the write refused, and refused again on retry", 60_000);
      const refused = "a room's history belongs to another message log; refused";
      expect(c.lines.find((l) => l.msg === refused)).toMatchObject({
        level: "error",
        roomId: "e0",
        storedEpoch: "kafka:another-log/0",
        busEpoch: fresh!.epoch,
        during: "write",
      });
      expect(await c.backlog.after("e0", 0, 10)).toEqual([]);
    });
  }, 90_000);
});
