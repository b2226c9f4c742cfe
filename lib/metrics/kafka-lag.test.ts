import { afterAll, describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { openBus } from "../backends.ts";
import { BACKLOG_WRITER_GROUP } from "../backlog/writer.ts";
import { parseConfig } from "../config/index.ts";
import { silentLogger } from "../log/index.ts";
import { backlogWriterLagProbe } from "./index.ts";
import { kafkaLagProbe } from "./kafka-lag.ts";

/** Lag against a real broker: a fresh topic, a few records, a group committed part of the way. */
describe.skipIf(skipWithout("kafka"))("kafkaLagProbe", () => {
  const brokers = (serviceUrl("kafka") ?? "").split(",");
  const topic = `chattalk.lagtest.${Date.now().toString(36)}`;
  const group = `lagtest-${Date.now().toString(36)}`;
  const kafka = new Kafka({ clientId: "lag-test", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const probe = kafkaLagProbe({ brokers, topic, group });

  afterAll(async () => {
    await probe.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  test("counts uncommitted records per partition; an uncommitted group lags by everything", async () => {
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `m${i}` })),
    });
    await producer.disconnect();

    const before = await probe.measure();
    expect(before.total).toBe(5);
    expect(before.partitions.map((p) => p.lag)).toEqual([3, 2]);
    expect(before.partitions.map((p) => p.committed)).toEqual([-1, -1]);

    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "2" }] });
    const after = await probe.measure();
    expect(after.partitions).toEqual([
      { partition: 0, committed: 2, end: 3, lag: 1 },
      { partition: 1, committed: -1, end: 2, lag: 2 },
    ]);
    expect(after.total).toBe(3);
  }, 30_000);
});

/** The group name the probe measures is the one the Kafka bus's durable readers really commit under. */
describe.skipIf(skipWithout("kafka"))("backlogWriterLagProbe", () => {
  test("sees the backlog writers' commits: lag falls to zero once they have consumed", async () => {
    const run = Date.now().toString(36);
    const config = parseConfig({
      KAFKA_BROKERS: serviceUrl("kafka"),
      KAFKA_TOPIC: `chattalk.lagtest.bus.${run}`,
      KAFKA_PARTITIONS: "2",
    });
    const bus = await openBus(config, silentLogger);
    const probe = backlogWriterLagProbe(config);
    const admin = new Kafka({
      clientId: "lag-test",
      brokers: config.KAFKA_BROKERS!,
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      for (let i = 0; i < 4; i++) {
        await bus.publish({
          id: crypto.randomUUID(),
          roomId: `room${i}`,
          type: "message",
          sender: { id: "u", username: "u" },
          text: `t${i}`,
          sentAt: new Date().toISOString(),
        });
      }
      expect((await probe.measure()).total).toBe(4);
      let consumed = 0;
      const stop = await bus.consume(BACKLOG_WRITER_GROUP, async (batch) => {
        consumed += batch.length;
      });
      const deadline = Date.now() + 20_000;
      let lag = await probe.measure();
      while (lag.total > 0 && Date.now() < deadline) {
        await Bun.sleep(200);
        lag = await probe.measure();
      }
      await stop();
      expect(consumed).toBe(4);
      expect(lag.total).toBe(0);
      expect(lag.partitions.some((p) => p.committed > 0)).toBe(true);
    } finally {
      await probe.close();
      await bus.close();
      await admin.connect();
      await admin
        .deleteTopics({ topics: [config.KAFKA_TOPIC, `${config.KAFKA_TOPIC}.control`] })
        .catch(() => {});
      await admin.disconnect();
    }
  }, 40_000);
});
