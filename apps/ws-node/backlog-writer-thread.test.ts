import { expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { BacklogWriterThread } from "../../lib/backlog/writer-thread.ts";
import { newDraft } from "../../lib/chat/message.ts";
import { eventually } from "../../testkit/eventually.ts";
import { testTopic } from "../../testkit/kafka.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { startWsHarness } from "../../testkit/ws-harness.ts";

const alice = { id: "u-alice", username: "alice" };

test.skipIf(skipWithout("kafka") || skipWithout("mongo"))(
  "on Kafka and MongoDB the node writes its backlog from a thread: it stores, its refusals count in node.epochs (the metric), stop ends it",
  async () => {
    const topic = testTopic();
    const mongoUrl = serviceUrl("mongo")!;
    const dbName = `chattalk_test_nwt_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
    const h = await startWsHarness({
      KAFKA_BROKERS: topic.brokers.join(","),
      KAFKA_TOPIC: topic.topic,
      KAFKA_PARTITIONS: "3",
      MONGO_URL: mongoUrl,
      MONGO_DB: dbName,
    });
    let stopped = false;
    try {
      const writer = h.backends.backlogWriter;
      expect(writer).toBeInstanceOf(BacklogWriterThread);
      const thread = writer as BacklogWriterThread;
      expect(thread.worker).toBeDefined();
      // One room whose history came from another log, one in another partition that is fine.
      const bus = h.backends.bus;
      const conflicted = "conflicted";
      let fine = "fine";
      for (let i = 0; bus.epochOf(fine) === bus.epochOf(conflicted); i++) fine = `fine${i}`;
      await h.backends.backlog.claimEpoch(conflicted, "kafka:another-log/0");
      await bus.publish(newDraft(conflicted, "message", alice, "refused"));
      const kept = await bus.publish(newDraft(fine, "message", alice, "kept"));
      await eventually(
        async () => (await h.backends.backlog.after(fine, 0, 10)).map((m) => m.id).includes(kept.id),
        "the fine room's message stored",
        60_000,
      );
      await eventually(
        () => h.node.epochs.conflicts >= 1,
        "the thread's refusal counted by the node",
        60_000,
      );

      await h.stop();
      stopped = true;
      expect(thread.worker).toBeUndefined();
      // The thread's consumer left the group (a member that just went silent stays for its session timeout).
      const admin = new Kafka({ brokers: topic.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const { groups } = await admin.describeGroups([`chattalk-backlog-writer.${topic.topic}`]);
      await admin.disconnect();
      expect(groups[0]?.members).toEqual([]);
    } finally {
      if (!stopped) await h.stop();
      await topic.drop();
      const client = new MongoClient(mongoUrl);
      await client.db(dbName).dropDatabase();
      await client.close();
    }
  },
  120_000,
);
