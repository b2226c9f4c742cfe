import { afterAll, describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { serviceUrl, skipWithout } from "../../test/support/services.ts";
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
