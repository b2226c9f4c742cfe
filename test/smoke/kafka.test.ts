import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Admin, type Consumer, Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";

/** What the consumer saw of the one message, in plain strings. */
interface Received {
  key: string | undefined;
  value: string | undefined;
  header: string | undefined;
}

describe.skipIf(skipWithout("kafka"))("kafka smoke (kafkajs against the KRaft broker)", () => {
  const topic = `chattalk-smoke-${crypto.randomUUID()}`;
  const groupId = `chattalk-smoke-${crypto.randomUUID()}`;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: "chattalk-smoke",
      brokers: serviceUrl("kafka")!.split(","),
      logLevel: logLevel.WARN,
    });
    admin = kafka.admin();
    await admin.connect();
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    if (consumer) await admin.deleteGroups([groupId]);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  test("a message produced to a fresh topic reaches a consumer group", async () => {
    // disconnect() waits for the fetch in flight, which the broker holds for up to maxWaitTimeInMs
    // (5 s by default) when no data arrives: a short wait keeps afterAll quick.
    consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = new Promise<Received>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ message }) => {
          resolve({
            key: message.key?.toString(),
            value: message.value?.toString(),
            header: message.headers?.["x-smoke"]?.toString(),
          });
        },
      });
    });

    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const [record] = await producer.send({
      topic,
      messages: [{ key: "room-1", value: "hello over kafka", headers: { "x-smoke": "yes" } }],
    });
    expect(record?.errorCode).toBe(0);

    expect(await received).toEqual({ key: "room-1", value: "hello over kafka", header: "yes" });
    expect(await admin.listTopics()).toContain(topic);
  });
});
