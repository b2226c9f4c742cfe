import { afterAll, describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { eventually } from "../../testkit/eventually.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { fetchTopicId, metadataRequest, topicIdFrom, UnknownTopicError } from "./kafka-topic-id.ts";

test("the request is a size-prefixed Metadata v12 for one topic, by name", () => {
  const bytes = metadataRequest("t", 7);
  const view = new DataView(bytes.buffer);
  expect(view.getInt32(0)).toBe(bytes.length - 4);
  expect([view.getInt16(4), view.getInt16(6), view.getInt32(8)]).toEqual([3, 12, 7]);
  expect(() => topicIdFrom(bytes.subarray(4, 10), "t")).toThrow("ended early");
});

describe.skipIf(skipWithout("kafka"))("fetchTopicId (real Kafka)", () => {
  const brokers = (serviceUrl("kafka") ?? "").split(",");
  const topic = `chattalk.topic-id-test.${Date.now().toString(36)}`;
  const admin = new Kafka({ clientId: "topic-id-test", brokers, logLevel: logLevel.NOTHING }).admin();
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  test("is stable for one topic, new when the topic is created again, an error for none", async () => {
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
    const first = await fetchTopicId(brokers, topic);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(await fetchTopicId(brokers, topic)).toBe(first);

    await admin.deleteTopics({ topics: [topic] });
    await eventually(async () => !(await admin.listTopics()).includes(topic), "topic deleted");
    await expect(fetchTopicId(brokers, topic)).rejects.toThrow(UnknownTopicError);
    await eventually(
      async () =>
        admin
          .createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] })
          .then(() => true)
          .catch(() => false),
      "topic created again",
    );
    const second = await fetchTopicId(brokers, topic);
    expect(second).toMatch(/^[0-9a-f]{32}$/);
    expect(second).not.toBe(first);
  }, 30_000);
});
