import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { eventually } from "../../testkit/eventually.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { createKafkaBus, type KafkaBusOptions } from "../bus/kafka.ts";
import { createSqliteBus } from "../bus/sqlite-log.ts";
import type { MessageBus } from "../bus/types.ts";
import { type LoggedMessage, newDraft } from "../chat/message.ts";
import type { Logger } from "../log/index.ts";
import { EpochCheck, LogEpochError } from "./epochs.ts";
import { createMongoBacklog } from "./mongo.ts";
import { createSqliteBacklog } from "./sqlite.ts";
import type { Backlog } from "./types.ts";
import { startBacklogWriter } from "./writer.ts";

const alice = { id: "u-alice", username: "alice" };

function recordingLog() {
  const errors: Record<string, unknown>[] = [];
  const log: Logger = (level, msg, fields) => {
    if (level === "error") errors.push({ msg, ...fields });
  };
  return { log, errors };
}

function logged(roomId: string, seq: number, epoch: string): LoggedMessage {
  return { ...newDraft(roomId, "message", alice, `m${seq}`), seq, epoch };
}

describe("EpochCheck", () => {
  test("the first write claims the room's epoch; later writes from that log pass, from another are refused", async () => {
    const backlog = createSqliteBacklog(":memory:");
    const { log, errors } = recordingLog();
    const check = new EpochCheck(backlog, log);
    await check.beforeWrite([logged("r", 1, "log-a"), logged("s", 1, "log-b")]);
    expect(await backlog.epochs(["r", "s"])).toEqual(
      new Map([
        ["r", "log-a"],
        ["s", "log-b"],
      ]),
    );
    await check.beforeWrite([logged("r", 2, "log-a")]);
    const refused = await check.beforeWrite([logged("r", 1, "log-c")]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LogEpochError);
    expect(refused).toMatchObject({ roomId: "r", storedEpoch: "log-a", busEpoch: "log-c" });
    expect(check.conflicts).toBe(1);
    expect(errors).toEqual([expect.objectContaining({ roomId: "r", storedEpoch: "log-a", during: "write" })]);
    await backlog.close();
  });

  test("a fresh process finds the stored epoch (nothing cached), and a batch mixing two logs is refused", async () => {
    const backlog = createSqliteBacklog(":memory:");
    await new EpochCheck(backlog, () => {}).beforeWrite([logged("r", 1, "log-a")]);
    const fresh = new EpochCheck(backlog, () => {});
    await expect(fresh.beforeWrite([logged("r", 9, "log-b")])).rejects.toThrow(LogEpochError);
    await expect(fresh.beforeWrite([logged("q", 1, "log-a"), logged("q", 2, "log-b")])).rejects.toThrow(
      LogEpochError,
    );
    expect(fresh.conflicts).toBe(2);
    await backlog.close();
  });

  test("a replay is refused when the room's history came from another log; no history is fine", async () => {
    const backlog = createSqliteBacklog(":memory:");
    const { log, errors } = recordingLog();
    const check = new EpochCheck(backlog, log);
    await check.beforeReplay("r", "log-a");
    await backlog.claimEpoch("r", "log-a");
    await check.beforeReplay("r", "log-a");
    await expect(check.beforeReplay("r", "log-b")).rejects.toThrow(LogEpochError);
    expect(errors).toEqual([expect.objectContaining({ roomId: "r", during: "replay" })]);
    await backlog.close();
  });
});

/**
 * The scenario from both sides: a room's history is written from one log, then the log starts again
 * (bus.db or the Kafka topic created anew) next to the surviving backlog. The new messages are never
 * dropped as duplicates: the writer refuses them loudly and keeps retrying, the backlog is unchanged.
 */
async function logStartsAgain(opts: {
  openBus(generation: 1 | 2): Promise<MessageBus>;
  backlog: Backlog;
  room: string;
  timeoutMs: number;
}): Promise<void> {
  const { backlog, room } = opts;
  const first = await opts.openBus(1);
  const stopFirst = await startBacklogWriter(first, backlog, { group: `epoch-test-${room}` });
  const old = [];
  for (let i = 0; i < 3; i++) old.push(await first.publish(newDraft(room, "message", alice, `old ${i}`)));
  await eventually(
    async () => (await backlog.countsAfter(new Map([[room, 0]]), 10)).get(room) === 3,
    "the first log's messages stored",
    opts.timeoutMs,
  );
  await stopFirst();
  await first.close();

  const second = await opts.openBus(2);
  expect(second.epochOf(room)).not.toBe(old[0]!.epoch);
  const { log, errors } = recordingLog();
  const epochs = new EpochCheck(backlog, log);
  const stop = await startBacklogWriter(second, backlog, { group: `epoch-test-${room}`, epochs, log });
  const fresh = await second.publish(newDraft(room, "message", alice, "new"));
  // The new log's seq would collide with a stored one: without the epoch it would vanish as a duplicate.
  expect(old.map((m) => m.seq)).toContain(fresh.seq);
  await eventually(
    () => epochs.conflicts >= 2,
    "the write refused, and refused again on retry",
    opts.timeoutMs,
  );
  await stop();
  await second.close();
  expect(errors[0]).toMatchObject({ roomId: room, storedEpoch: old[0]!.epoch, busEpoch: fresh.epoch });
  expect((await backlog.after(room, 0, 10)).map((m) => m.text)).toEqual(["old 0", "old 1", "old 2"]);
  await expect(epochs.beforeReplay(room, fresh.epoch)).rejects.toThrow(LogEpochError);
}

describe("a log that starts again next to a surviving backlog", () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-epochs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("sqlite-log: bus.db created anew", async () => {
    const backlog = createSqliteBacklog(join(dir, "backlog.db"));
    await logStartsAgain({
      // The second generation is a new file where the first was: as if bus.db had been deleted.
      openBus: async (generation) =>
        createSqliteBus(join(dir, `bus-${generation}.db`), { retryMinMs: 5, retryMaxMs: 20 }),
      backlog,
      room: "lobby",
      timeoutMs: 5_000,
    });
    await backlog.close();
  });

  test.skipIf(skipWithout("kafka") || skipWithout("mongo"))(
    "kafka: the topic deleted and created again, MongoDB backlog kept",
    async () => {
      const brokers = serviceUrl("kafka")!.split(",");
      const run = Date.now().toString(36);
      const topic = `chattalk.epoch-test.${run}`;
      const dbName = `chattalk_epoch_test_${run}`;
      const admin = new Kafka({ clientId: "epoch-test", brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const backlog = createMongoBacklog(serviceUrl("mongo")!, dbName);
      const options: KafkaBusOptions = {
        brokers,
        topic,
        partitions: 1,
        sendTimeoutMs: 5_000,
        retryMinMs: 50,
      };
      try {
        await logStartsAgain({
          openBus: async (generation) => {
            if (generation === 2) {
              await admin.deleteTopics({ topics: [topic, `${topic}.control`] });
              await eventually(async () => !(await admin.listTopics()).includes(topic), "topic deleted");
            }
            // A just-deleted topic may take a moment before it can be created again.
            let bus: MessageBus | undefined;
            await eventually(
              async () => {
                bus = await createKafkaBus(options).catch(() => undefined);
                return bus !== undefined;
              },
              "the bus on a fresh topic",
              20_000,
            );
            return bus!;
          },
          backlog,
          room: "lobby",
          timeoutMs: 30_000,
        });
      } finally {
        await backlog.close();
        await admin.deleteTopics({ topics: [topic, `${topic}.control`] }).catch(() => {});
        await admin.disconnect();
        const mongo = new MongoClient(serviceUrl("mongo")!);
        await mongo.db(dbName).dropDatabase();
        await mongo.close();
      }
    },
    90_000,
  );
});
