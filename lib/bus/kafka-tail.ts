/**
 * Reads every partition of one topic from its end onwards, with no consumer group: each partition is
 * assigned to this reader by hand and fetched from its leader, and the reader alone keeps its position.
 *
 * Why no group: a ws-node's fan-out reader (and every process's control reader) must see every
 * partition anyway, and it resumes from its own position after any fault. A group would only add a
 * coordinator to find and a join to wait for — after a broker restart the coordinator is "loading"
 * for many seconds, a frozen or killed member is waited for until its session times out, and kafkajs
 * restarts a crashed group consumer after a backoff that grows to tens of seconds. Live delivery
 * stalled for all of that. Here a fetch that fails is tried again within a second, and the first
 * fetch that succeeds delivers.
 *
 * kafkajs has no public API for a consumer without a group, so this drives its Cluster and Broker
 * (connections, metadata, versioned Fetch and ListOffsets, record decoding) directly; kafkajs 2.2.4
 * is pinned and the shapes used are checked on load.
 */
import { createRequire } from "node:module";
import type { ISocketFactory, KafkaMessage, logCreator } from "kafkajs";
import { withTimeout } from "../async/timeout.ts";
import { errorFields, type Logger } from "../log/index.ts";

export interface TopicTailOptions {
  brokers: string[];
  clientId: string;
  topic: string;
  /** kafkajs log lines, routed into ours (kafkaLogCreator). */
  logCreator: logCreator;
  log: Logger;
  /**
   * Handed each partition's new records in offset order, once each, as soon as they are fetched.
   * `through` is the last offset the fetch covered (records may be filtered out before it).
   */
  onRecords(partition: number, records: KafkaMessage[], through: number): void;
  /** Where to start reading, per partition (the next offset to fetch); the ends at start by default. */
  startOffsets?: ReadonlyMap<number, number>;
  /** Long poll: how long the broker may hold a fetch that has nothing new. */
  maxWaitMs?: number;
  /** First and longest pause after a failed fetch before the next one. */
  retryMinMs?: number;
  retryMaxMs?: number;
  socketFactory: ISocketFactory;
}

export interface TopicTail {
  /** Where reading started, per partition: the next offset it fetched first (the ends at start by default). */
  readonly startOffsets: ReadonlyMap<number, number>;
  /**
   * Records [from, from + count) of `partition` are known to be in the log (this process wrote them and
   * Kafka acknowledged them with acks=all, so they lie below the high watermark a fetch reads up to).
   * When they are exactly the next ones this reader would hand over, it moves past them and returns
   * true: the caller hands them over itself, now, instead of after a fetch. Otherwise (the reader is
   * behind, or records of another writer come first) it returns false and they arrive by fetch as usual.
   * A fetch already under way from the old position is then dropped for that partition (handOver
   * checks the position) and the next one starts after the claimed records: each is handed over once.
   */
  claim(partition: number, from: number, count: number): boolean;
  stop(): Promise<void>;
}

/** The parts of kafkajs's internal Cluster and Broker this reader uses. */
interface FetchedPartition {
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
}
interface InternalBroker {
  fetch(request: {
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    isolationLevel: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchedPartition[] }[] }>;
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number | null }[];
  findBroker(where: { nodeId: string }): Promise<InternalBroker>;
  removeBroker(where: { host: string; port: number }): void;
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}
interface InternalBatch {
  messages: KafkaMessage[];
  messagesWithinOffset: KafkaMessage[];
  isEmptyDueToLogCompactedMessages(): boolean;
}

const require = createRequire(import.meta.url);
const Cluster = require("kafkajs/src/cluster") as new (options: Record<string, unknown>) => InternalCluster;
const Batch = require("kafkajs/src/consumer/batch") as new (
  topic: string,
  fetchedOffset: string,
  partitionData: FetchedPartition,
) => InternalBatch;
const { createLogger } = require("kafkajs/src/loggers") as {
  createLogger(o: { level: number; logCreator: logCreator }): unknown;
};
const READ_COMMITTED = (require("kafkajs/src/protocol/isolationLevel") as { READ_COMMITTED: number })
  .READ_COMMITTED;
for (const [name, method] of [
  ["Cluster.fetchTopicsOffset", Cluster.prototype.fetchTopicsOffset],
  ["Cluster.findTopicPartitionMetadata", Cluster.prototype.findTopicPartitionMetadata],
  ["Cluster.findBroker", Cluster.prototype.findBroker],
] as const) {
  if (typeof method !== "function")
    throw new Error(`kafkajs changed (${name}): review lib/bus/kafka-tail.ts`);
}

/** Errors after which the partition leaders may have moved: read the metadata again. */
const STALE_METADATA = new Set([
  "LEADER_NOT_AVAILABLE",
  "NOT_LEADER_FOR_PARTITION",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "UNKNOWN_TOPIC_OR_PARTITION",
]);
/** Extra time a fetch may take beyond its long poll before the connection counts as dead. */
const FETCH_SLACK_MS = 4_000;
/** How often partitions without a running fetch loop (no leader known yet) are looked at again. */
const REASSIGN_EVERY_MS = 1_000;

interface KafkaError extends Error {
  type?: string;
  partition?: number;
  host?: string;
  port?: number;
}

/** Starts reading `topic` at the current end of every partition; resolves once those ends are fixed. */
export async function startTopicTail(o: TopicTailOptions): Promise<TopicTail> {
  const maxWaitMs = o.maxWaitMs ?? 500;
  const retryMinMs = o.retryMinMs ?? 100;
  const retryMaxMs = o.retryMaxMs ?? 1_000;
  const cluster = new Cluster({
    logger: createLogger({ level: 4, logCreator: o.logCreator }),
    socketFactory: o.socketFactory,
    brokers: o.brokers,
    clientId: o.clientId,
    connectionTimeout: 3_000,
    requestTimeout: maxWaitMs + FETCH_SLACK_MS,
    enforceRequestTimeout: true,
    metadataMaxAge: 300_000,
    // Few and short: a failed request is this reader's to retry, on its own schedule.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    allowAutoTopicCreation: false,
    isolationLevel: READ_COMMITTED,
    instrumentationEmitter: null,
    offsets: new Map(),
  });
  const { topic, log } = o;
  try {
    await cluster.connect();
    await cluster.addTargetTopic(topic);
  } catch (err) {
    await cluster.disconnect().catch(() => undefined);
    throw err;
  }
  const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
  const offsetsAt = async (fromBeginning: boolean, which: number[]) => {
    const [result] = await cluster.fetchTopicsOffset([
      { topic, partitions: which.map((partition) => ({ partition })), fromBeginning },
    ]);
    return new Map((result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  };
  let startOffsets: Map<number, number>;
  try {
    const ends = await offsetsAt(false, partitions);
    startOffsets = new Map(partitions.map((p) => [p, o.startOffsets?.get(p) ?? ends.get(p) ?? 0]));
  } catch (err) {
    await cluster.disconnect().catch(() => undefined);
    throw err;
  }

  /** The next offset to fetch, per partition. */
  const next = new Map(startOffsets);
  /** Partitions with a fetch in flight: a partition is in at most one, so its records stay in order. */
  const fetching = new Set<number>();
  /** One fetch loop per leader broker, by node id. */
  const loops = new Map<number, Promise<void>>();
  let stopped = false;
  let failingSince: number | undefined;
  let lastWarnAt = 0;

  const leaderOf = (): Map<number, number> => {
    const leaders = new Map<number, number>();
    try {
      for (const p of cluster.findTopicPartitionMetadata(topic)) {
        if (p.leader !== null && p.leader >= 0 && next.has(p.partitionId))
          leaders.set(p.partitionId, p.leader);
      }
    } catch {
      // No metadata yet: the reassignment tick asks again.
    }
    return leaders;
  };

  const ensureLoops = () => {
    if (stopped) return;
    for (const nodeId of new Set(leaderOf().values())) {
      if (!loops.has(nodeId)) {
        loops.set(
          nodeId,
          fetchLoop(nodeId).finally(() => loops.delete(nodeId)),
        );
      }
    }
  };

  const failed = (err: KafkaError) => {
    const now = performance.now();
    failingSince ??= now;
    // One line when it starts failing and one every 10 s after, not one per retry.
    if (now - lastWarnAt >= 10_000) {
      lastWarnAt = now;
      log("warn", "kafka reader cannot fetch; retrying", { topic, ...errorFields(err) });
    }
  };

  const recovered = () => {
    if (failingSince === undefined) return;
    log("info", "kafka reader fetching again", {
      topic,
      afterMs: Math.round(performance.now() - failingSince),
    });
    failingSince = undefined;
    lastWarnAt = 0;
  };

  /** Out of range: retention deleted what was next, or the topic began again. Resume at its start. */
  const restartPartition = async (partition: number) => {
    const earliest = (await offsetsAt(true, [partition])).get(partition) ?? 0;
    const was = next.get(partition);
    next.set(partition, earliest);
    log("warn", "kafka reader position out of range; resuming at the partition's first offset", {
      topic,
      partition,
      was,
      now: earliest,
    });
  };

  const recover = async (err: KafkaError) => {
    if (err.name === "KafkaJSOffsetOutOfRange" && err.partition !== undefined) {
      await restartPartition(err.partition);
      return;
    }
    failed(err);
    if (err.name === "KafkaJSConnectionClosedError" && err.host && err.port) {
      cluster.removeBroker({ host: err.host, port: err.port });
    }
    if (
      STALE_METADATA.has(err.type ?? "") ||
      err.name.startsWith("KafkaJSConnection") ||
      err.name === "KafkaJSBrokerNotFound" ||
      err.name === "KafkaJSRequestTimeoutError" ||
      err.name === "TimeoutError"
    ) {
      // A stalled connection may have lost bytes mid-response: never reuse it.
      if (err.name === "TimeoutError" || err.name === "KafkaJSRequestTimeoutError") {
        await cluster.disconnect().catch(() => undefined);
      }
      await cluster.refreshMetadata().catch(() => undefined);
    }
  };

  async function fetchLoop(nodeId: number): Promise<void> {
    let delay = retryMinMs;
    while (!stopped) {
      const leaders = leaderOf();
      const mine = [...next.keys()].filter((p) => leaders.get(p) === nodeId && !fetching.has(p));
      if (mine.length === 0) return;
      const from = new Map(mine.map((p) => [p, next.get(p)!]));
      for (const p of mine) fetching.add(p);
      try {
        const broker = await cluster.findBroker({ nodeId: String(nodeId) });
        const { responses } = await withTimeout(
          broker.fetch({
            maxWaitTime: maxWaitMs,
            minBytes: 1,
            maxBytes: 10 * 1024 * 1024,
            isolationLevel: READ_COMMITTED,
            topics: [
              {
                topic,
                partitions: mine.map((p) => ({
                  partition: p,
                  fetchOffset: String(from.get(p)),
                  maxBytes: 1024 * 1024,
                })),
              },
            ],
          }),
          maxWaitMs + FETCH_SLACK_MS,
          `Kafka fetch from broker ${nodeId}`,
        );
        if (stopped) return;
        for (const t of responses) {
          if (t.topicName !== topic) continue;
          for (const data of t.partitions) handOver(data, from.get(data.partition));
        }
        recovered();
        delay = retryMinMs;
      } catch (err) {
        if (stopped) return;
        await recover(err as KafkaError).catch((e) => failed(e as KafkaError));
        await Bun.sleep(delay);
        delay = Math.min(delay * 2, retryMaxMs);
        ensureLoops();
      } finally {
        for (const p of mine) fetching.delete(p);
      }
    }
  }

  /** Hands a partition's fetched records over, if its position is still the one fetched from. */
  function handOver(data: FetchedPartition, fetchedFrom: number | undefined) {
    const partition = data.partition;
    if (fetchedFrom === undefined || next.get(partition) !== fetchedFrom) return;
    const batch = new Batch(topic, String(fetchedFrom), data);
    let through: number;
    if (batch.messagesWithinOffset.length > 0) through = Number(batch.messagesWithinOffset.at(-1)!.offset);
    else if (batch.isEmptyDueToLogCompactedMessages()) through = fetchedFrom;
    else return;
    next.set(partition, through + 1);
    try {
      o.onRecords(partition, batch.messages, through);
    } catch (err) {
      log("error", "kafka reader: records not handed over", { topic, partition, ...errorFields(err) });
    }
  }

  // Partitions whose leader was unknown (an election under way) get a loop once one is known.
  const reassign = setInterval(() => {
    const leaders = leaderOf();
    const covered = [...next.keys()].every((p) => leaders.has(p) && loops.has(leaders.get(p)!));
    if (covered) return;
    void cluster
      .refreshMetadata()
      .catch(() => undefined)
      .then(ensureLoops);
  }, REASSIGN_EVERY_MS);
  ensureLoops();

  return {
    startOffsets,
    claim(partition, from, count) {
      if (stopped || count <= 0 || next.get(partition) !== from) return false;
      next.set(partition, from + count);
      return true;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(reassign);
      await cluster.disconnect().catch(() => undefined);
      await Promise.all(loops.values());
    },
  };
}
