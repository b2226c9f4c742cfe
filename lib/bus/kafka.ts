import { hostname } from "node:os";
import { type Consumer, type ISocketFactory, Kafka, logLevel, Partitioners } from "kafkajs";
import { type ControlEvent, controlKey } from "../chat/control.ts";
import type { LoggedMessage, MessageDraft } from "../chat/message.ts";
import { errorFields, type Logger, silentLogger } from "../log/index.ts";
import { durableGroupId } from "./durable-group.ts";
import { chunks, HeartbeatKeeper } from "./kafka-heartbeat.ts";
import { LanedProducer } from "./kafka-producer.ts";
import { ReaderProgress } from "./kafka-progress.ts";
import { supervise } from "./kafka-supervisor.ts";
import { ensureTopics, kafkaLogCreator, kafkaSockets, parseRecord, retryRetriable } from "./kafka-support.ts";
import { startTopicTail } from "./kafka-tail.ts";
import { fetchTopicIdOnceKnown } from "./kafka-topic-id.ts";
import type { BusListener, MessageBus, Unsubscribe } from "./types.ts";

export interface KafkaBusOptions {
  brokers: string[];
  /** Room messages go here; control events go to `${topic}.control`. */
  topic: string;
  /** Partitions for topics this bus creates; existing topics keep theirs. */
  partitions: number;
  sendTimeoutMs: number;
  /** Names this process's Kafka clients. */
  nodeId?: string;
  log?: Logger;
  maxPending?: number;
  lingerMs?: number;
  maxBatch?: number;
  maxBatchBytes?: number;
  /** Producers side by side, each serving a fixed share of the partitions (LanedProducer). */
  producerLanes?: number;
  /** First and longest wait before a failed consume() batch is retried. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Most messages a durable reader hands its handler at once; each such chunk is committed on its own. */
  maxChunk?: number;
  /** Replaces kafkajs's TCP sockets; tests use it to cut this client off from the broker. */
  socketFactory?: ISocketFactory;
}

const seqOf = (offset: number) => offset + 1;

/** Consumer group heartbeats: kafkajs's interval, and how often a running batch handler beats. */
const HEARTBEAT_MS = 1_000;
/** Longest wait, when a reader starts, for it to hand over the log's past (SubscribeOptions.pastMs). */
const PAST_WAIT_MS = 60_000;

/** A topic's live reader: how to stop it, how far it has handed records over, and its claim (TopicTail). */
interface Reader {
  stop: Unsubscribe;
  progress: ReaderProgress;
  claim(partition: number, from: number, count: number): boolean;
}

/**
 * The Kafka bus between replicas. A room's messages are keyed by room id, so they share one partition
 * and `seq` is the record's offset in it plus one: every replica and the backlog writer read the same
 * number. Plus one because offsets start at 0, and seq 0 means "before the first message" (read
 * positions, `after(room, 0)`).
 */
export async function createKafkaBus(options: KafkaBusOptions): Promise<MessageBus> {
  // maxChunk: the backlog writer's cost is mostly per store call (a few per room per chunk), not per
  // message. In the kafka bench at half load the writer fell behind with chunks of 500 (0.5 ms of
  // handler time per message, the node's loop and FerretDB busy all along); chunks of 2,000 took
  // 0.2-0.27 ms per message and ~8% less ws-node CPU per message.
  const { topic, log = silentLogger, retryMinMs = 100, retryMaxMs = 5_000, maxChunk = 2_000 } = options;
  const controlTopic = `${topic}.control`;
  const nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
  const socketFactory = kafkaSockets(options.socketFactory);
  const kafka = new Kafka({
    clientId: `chattalk-${nodeId}`,
    brokers: options.brokers,
    logCreator: kafkaLogCreator(log),
    logLevel: logLevel.INFO,
    socketFactory,
    // Every kafkajs client here retries a failed connection or request on this schedule, and a crashed
    // consumer restarts after its last wait: kafkajs's default grows to 30 s (writers sat idle 10-15 s
    // after Kafka was back). Requests are bounded by our own timeouts anyway.
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  // A room's log is its partition of this incarnation of the topic: the epoch names both. Read again
  // whenever a durable reader starts, so a topic created anew under a running node is noticed.
  let topicId: string;
  try {
    await ensureTopics(admin, [topic, controlTopic], options.partitions, log);
    topicId = await fetchTopicIdOnceKnown(options.brokers, topic);
  } catch (err) {
    await admin.disconnect();
    throw err;
  }
  const epochOf = (partition: number) => `kafka:${topicId}/${partition}`;
  const metadata = await admin.fetchTopicMetadata({ topics: [topic, controlTopic] });
  const partitionsOf = new Map(metadata.topics.map((t) => [t.name, t.partitions]));
  const partitioner = Partitioners.DefaultPartitioner();
  // Chosen here rather than inside kafkajs so that each record's partition, and so its offset, is known.
  // Remembered per key: kafkajs's murmur2 runs on its own 64-bit Long class, and was an eighth of the
  // node's JavaScript time at full SEND rate. Bounded: a node that has seen very many rooms starts over.
  const partitions = new Map<string, number>();
  const partitionFor = (name: string, key: string) => {
    const memo = `${name}\u0000${key}`;
    let partition = partitions.get(memo);
    if (partition === undefined) {
      if (partitions.size >= 100_000) partitions.clear();
      partition = partitioner({
        topic: name,
        partitionMetadata: partitionsOf.get(name) ?? [],
        message: { key, value: null },
      });
      partitions.set(memo, partition);
    }
    return partition;
  };

  const producer = new LanedProducer(kafka, {
    // Measured on a 2-core machine with 6 partitions, 400 publishers each awaiting its previous
    // acknowledgement (bus alone): 1 lane 10.9-12.1k msg/s, 3 lanes 23.9k, 6 lanes 18.3k.
    lanes: options.producerLanes ?? 3,
    sendTimeoutMs: options.sendTimeoutMs,
    maxPending: options.maxPending ?? 10_000,
    lingerMs: options.lingerMs ?? 2,
    // One request is in flight at a time (kafkajs serialises an idempotent producer per broker), so a
    // request must be able to carry every publish that waited for it: capped at 100, a node with a
    // few hundred connections sending sat at ~3k msg/s waiting on round trips with Kafka far from busy.
    // Bytes bound it too, so the largest messages (MESSAGE_MAX_CHARS) never make a batch Kafka refuses.
    maxBatch: options.maxBatch ?? 1_000,
    maxBatchBytes: options.maxBatchBytes ?? 512 * 1024,
    log,
  });

  /** A durable reader's consumer (the backlog writers' group). */
  const newConsumer = (groupId: string): Consumer =>
    kafka.consumer({
      groupId,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      // A replica that dies (SIGKILL) holds its partitions until its session times out: keep that
      // short so the backlog writers of the others take over within seconds, not kafkajs's 30 s. A
      // live one keeps beating while its handler works (kafka-heartbeat.ts), however long that takes.
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: HEARTBEAT_MS,
    });

  /** Runs a consumer on the group and replaces it whenever kafkajs gives up on it (see supervise). */
  const superviseGroup = (
    groupId: string,
    start: (consumer: Consumer) => Promise<void>,
    onCreate?: (c: Consumer) => void,
  ) =>
    supervise({
      groupId,
      create: () => {
        const consumer = newConsumer(groupId);
        onCreate?.(consumer);
        return consumer;
      },
      start,
      log,
      retryMinMs: 500,
      retryMaxMs: 2_000,
    });

  const listeners = new Set<BusListener>();
  const controlListeners = new Set<(event: ControlEvent) => void>();
  const consumers = new Set<Unsubscribe>();
  /** One live reader per topic, started when its first listener arrives. */
  const readers = new Map<string, Promise<Reader>>();
  /** The room topic's reader once it is live (its past handed over): publish() hands its own records to it. */
  let roomReader: Reader | undefined;
  let closed = false;

  /** A room message to every local subscriber, in the log's order (`past`: from before the reader started). */
  const deliver = (message: LoggedMessage, past: boolean) => {
    for (const listener of listeners) {
      try {
        listener(message, past);
      } catch (err) {
        log("error", "bus subscriber failed", errorFields(err));
      }
    }
  };

  const dispatch = <T>(set: Set<(value: T) => void>, value: T) => {
    for (const listener of set) {
      try {
        listener(value);
      } catch (err) {
        log("error", "bus subscriber failed", errorFields(err));
      }
    }
  };

  /**
   * One reader per process and topic reads it for every local subscriber: messages for the fan-out,
   * control events for membership changes (a presence-node reads only those). It reads every
   * partition from its end at start — or from `pastMs` before (by record timestamp), handing what lies
   * before the ends over as past — without a consumer group (see kafka-tail.ts): nothing to join,
   * nothing to rebalance, and after any fault it goes on from where it was. Subscribing resolves once
   * those start positions are fixed and the past has been handed over: from then on nothing published
   * is missed.
   */
  const startReader = async (readTopic: string, pastMs = 0): Promise<Reader> => {
    const kind = readTopic === controlTopic ? "control" : "fanout";
    const watermarks = async () => {
      const offsets = await admin.fetchTopicOffsets(readTopic);
      return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
    };
    const progress = new ReaderProgress(watermarks);
    // With a past to read: where it starts (by timestamp) and where it ends (the ends now).
    const ends = pastMs > 0 ? await retryRetriable(watermarks) : new Map<number, number>();
    const starts =
      pastMs > 0
        ? new Map(
            (
              await retryRetriable(() => admin.fetchTopicOffsetsByTimestamp(readTopic, Date.now() - pastMs))
            ).map((o) => {
              // -1: nothing as recent as that (read from the end).
              const end = ends.get(o.partition) ?? 0;
              const at = Number(o.offset);
              return [o.partition, at < 0 ? end : Math.min(at, end)] as const;
            }),
          )
        : undefined;
    const tail = await startTopicTail({
      brokers: options.brokers,
      clientId: `chattalk-${nodeId}-${kind}`,
      topic: readTopic,
      logCreator: kafkaLogCreator(log),
      log,
      socketFactory,
      startOffsets: starts,
      onRecords(partition, records, through) {
        for (const record of records) {
          if (kind === "control") {
            const event = parseRecord<ControlEvent>(record, log);
            if (event) dispatch(controlListeners, event);
          } else {
            const draft = parseRecord<MessageDraft>(record, log);
            if (!draft) continue;
            const offset = Number(record.offset);
            const message = { ...draft, seq: seqOf(offset), epoch: epochOf(partition) };
            deliver(message, offset < (ends.get(partition) ?? 0));
          }
        }
        progress.advance(partition, through);
      },
    });
    progress.startAt(tail.startOffsets);
    if (pastMs > 0) {
      const handedOver = [...ends]
        .filter(([partition, end]) => end > (tail.startOffsets.get(partition) ?? end))
        .map(([partition, end]) => progress.reach(partition, end - 1, PAST_WAIT_MS));
      await Promise.all(handedOver).catch((err) =>
        log("warn", "kafka: the log's past was not read in time; continuing", {
          ...errorFields(err),
          pastMs,
        }),
      );
    }
    const reader: Reader = {
      stop: async () => {
        if (roomReader === reader) roomReader = undefined;
        await tail.stop();
      },
      progress,
      claim: (partition, from, count) => tail.claim(partition, from, count),
    };
    if (kind === "fanout") roomReader = reader;
    return reader;
  };

  const listen = async <T>(
    readTopic: string,
    set: Set<T>,
    listener: T,
    pastMs?: number,
  ): Promise<Unsubscribe> => {
    let reader = readers.get(readTopic);
    if (!reader) {
      // The first listener gets everything the new reader hands over, its past included.
      set.add(listener);
      reader = startReader(readTopic, pastMs).catch((err) => {
        readers.delete(readTopic);
        set.delete(listener);
        throw err;
      });
      readers.set(readTopic, reader);
      await reader;
    } else {
      await reader;
      set.add(listener);
    }
    return async () => {
      set.delete(listener);
    };
  };

  /**
   * A durable reader's fetched batch, handed to the handler in chunks of at most `maxChunk` messages,
   * each committed once the handler resolves: a long backlog catch-up makes progress that a crash or a
   * rebalance does not throw away, and each step takes a bounded time. Heartbeats go on while the
   * handler runs (kafka-heartbeat.ts); when the group rebalances, the reader stops after the chunk at
   * hand and rejoins.
   */
  const consumeBatches = async (consumer: Consumer, handler: (batch: LoggedMessage[]) => Promise<void>) => {
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Each partition on its own: a batch the handler keeps refusing (a room whose history came from
      // another log, retried until an operator acts) holds back its own partition, not the others'.
      partitionsConsumedConcurrently: options.partitions,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const beats = new HeartbeatKeeper(heartbeat, HEARTBEAT_MS);
        const epoch = epochOf(batch.partition);
        const writeChunks = async () => {
          for (const records of chunks(batch.messages, maxChunk)) {
            const messages: LoggedMessage[] = [];
            for (const record of records) {
              const draft = parseRecord<MessageDraft>(record, log);
              if (draft) messages.push({ ...draft, seq: seqOf(Number(record.offset)), epoch });
            }
            let delay = retryMinMs;
            for (;;) {
              // Stopped, rebalancing or dropped: the rest stays uncommitted for the partition's next owner.
              if (!isRunning() || isStale() || beats.mustStop) return;
              try {
                if (messages.length > 0) await handler(messages);
                break;
              } catch (err) {
                log("warn", "bus consumer batch failed, will retry", {
                  ...errorFields(err),
                  retryInMs: delay,
                });
                await Bun.sleep(delay);
                delay = Math.min(delay * 2, retryMaxMs);
              }
            }
            if (!isRunning() || isStale()) return;
            // Committed even while a rebalance is under way (the generation still holds): less to redo.
            const last = records.at(-1)!.offset;
            resolveOffset(last);
            const next = String(Number(last) + 1);
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
          }
        };
        try {
          await writeChunks();
        } finally {
          beats.stop();
        }
        // kafkajs rejoins at once when the batch ends with the rebalance error.
        if (beats.rejoin) throw beats.rejoin;
      },
    });
  };

  return {
    async publish(draft) {
      const partition = partitionFor(topic, draft.roomId);
      const offset = await producer.send({
        topic,
        partition,
        key: draft.roomId,
        value: JSON.stringify(draft),
      });
      const message = { ...draft, seq: seqOf(offset), epoch: epochOf(partition) };
      // Acknowledged with acks=all, so it is in the log where the reader would find it: when it is the
      // next record the reader would hand over, this node's subscribers get it now rather than one
      // fetch later (the reader skips it). Records of other nodes, or a reader behind, go by fetch.
      if (roomReader?.claim(partition, offset, 1)) {
        deliver(message, false);
        roomReader.progress.advance(partition, offset);
      }
      return message;
    },

    subscribe: (handler, options) => listen(topic, listeners, handler, options?.pastMs),

    async caughtUp(roomId, timeoutMs) {
      const reader = await readers.get(topic);
      await reader?.progress.caughtUp(partitionFor(topic, roomId), timeoutMs);
    },

    async consume(group, handler) {
      // Not waited for: joining the group can take a session timeout (a member that died without
      // leaving is waited for), and nothing but the backlog depends on it.
      const supervisor = superviseGroup(durableGroupId(group, topic), async (consumer) => {
        topicId = await fetchTopicIdOnceKnown(options.brokers, topic);
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumeBatches(consumer, handler);
      });
      const stop = async () => {
        consumers.delete(stop);
        await supervisor.stop();
      };
      consumers.add(stop);
      return stop;
    },

    async publishControl(event) {
      const key = controlKey(event);
      const partition = partitionFor(controlTopic, key);
      await producer.send({
        topic: controlTopic,
        partition,
        key,
        value: JSON.stringify(event),
      });
    },

    subscribeControl: (handler) => listen(controlTopic, controlListeners, handler),

    epochOf: (roomId) => epochOf(partitionFor(topic, roomId)),

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      controlListeners.clear();
      await Promise.all([...consumers].map((stop) => stop()));
      for (const reader of readers.values()) await (await reader.catch(() => undefined))?.stop();
      await producer.close();
      await admin.disconnect();
    },
  };
}
