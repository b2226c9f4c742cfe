import { type Admin, Kafka, logLevel } from "kafkajs";
import "../bus/kafka-request-queue.ts";

/** How far a consumer group trails the end of a topic, in messages. */
export interface ConsumerLag {
  group: string;
  topic: string;
  total: number;
  partitions: { partition: number; committed: number; end: number; lag: number }[];
}

/** Measures one consumer group's lag on demand; keeps one admin connection while in use. */
export interface LagProbe {
  readonly group: string;
  readonly topic: string;
  measure(): Promise<ConsumerLag>;
  close(): Promise<void>;
}

/**
 * Lag = end offset − committed offset, per partition. A partition the group never committed counts
 * from its low watermark: everything retained there is still unread.
 */
export function kafkaLagProbe(opts: {
  brokers: string[];
  topic: string;
  group: string;
  timeoutMs?: number;
}): LagProbe {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const kafka = new Kafka({
    clientId: "chattalk-lag-probe",
    brokers: opts.brokers,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
    logLevel: logLevel.NOTHING,
  });
  let admin: Admin | undefined;
  let connecting: Promise<Admin> | undefined;

  const connected = (): Promise<Admin> => {
    if (admin) return Promise.resolve(admin);
    connecting ??= (async () => {
      const a = kafka.admin();
      try {
        await a.connect();
      } catch (err) {
        connecting = undefined;
        throw err;
      }
      admin = a;
      return a;
    })();
    return connecting;
  };

  return {
    group: opts.group,
    topic: opts.topic,
    async measure() {
      const a = await connected();
      const [committed, ends] = await Promise.all([
        a.fetchOffsets({ groupId: opts.group, topics: [opts.topic] }),
        a.fetchTopicOffsets(opts.topic),
      ]);
      const byPartition = new Map<number, number>();
      for (const p of committed.find((t) => t.topic === opts.topic)?.partitions ?? []) {
        byPartition.set(p.partition, Number(p.offset));
      }
      const partitions = ends
        .map((e) => {
          const end = Number(e.high);
          const c = byPartition.get(e.partition) ?? -1;
          const from = c >= 0 ? c : Number(e.low);
          return { partition: e.partition, committed: c, end, lag: Math.max(0, end - from) };
        })
        .sort((x, y) => x.partition - y.partition);
      const total = partitions.reduce((sum, p) => sum + p.lag, 0);
      return { group: opts.group, topic: opts.topic, total, partitions };
    },
    async close() {
      const a = admin ?? (await connecting?.catch(() => undefined));
      admin = undefined;
      connecting = undefined;
      await a?.disconnect().catch(() => {});
    },
  };
}
