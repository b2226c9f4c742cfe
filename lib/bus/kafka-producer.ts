import { type Kafka, Partitioners, type Producer, type RecordMetadata } from "kafkajs";
import { withTimeout } from "../async/timeout.ts";
import { errorFields, type Logger } from "../log/index.ts";
import { BusUnavailableError } from "./types.ts";

export interface BatchingProducerOptions {
  /** Bound on a publish from call to acknowledgement, connecting included. */
  sendTimeoutMs: number;
  /** Publishes waiting or in flight beyond this are refused at once. */
  maxPending: number;
  /** How long a lone publish waits for company before its request goes out. */
  lingerMs: number;
  /** A waiting batch this large goes out without lingering; also the most records per request. */
  maxBatch: number;
  /**
   * The most key + value bytes per request (a lone larger record still goes alone). Kept well under
   * the broker's per-partition batch limit (message.max.bytes, 1 MB by default): a request over it
   * would be refused whole, with every publish in it.
   */
  maxBatchBytes: number;
  log: Logger;
}

export interface OutgoingRecord {
  topic: string;
  partition: number;
  key: string;
  value: string;
}

interface Pending extends OutgoingRecord {
  bytes: number;
  settled: boolean;
  /** Handed to kafkajs: from then on a failure may still have written it. */
  sent: boolean;
  timer: ReturnType<typeof setTimeout>;
  resolve(offset: number): void;
  reject(err: Error): void;
}

/**
 * Sends records through one idempotent producer, one request at a time, gathering concurrent publishes
 * into that request. Each record's offset is its partition's baseOffset in the produce response plus its
 * index among that partition's records in the request: Kafka appends a partition's records of one
 * request as one batch, in order.
 *
 * When a request fails or times out, every record in it is rejected and the producer is replaced: a
 * fresh producer id keeps later records from reusing the sequence numbers of a batch whose fate is
 * unknown (the broker would drop them as duplicates), and reconnects once Kafka is back.
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private inFlight = 0;
  private sending = false;
  private linger: ReturnType<typeof setTimeout> | undefined;
  private producer: Producer | undefined;
  private connected: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchingProducerOptions,
  ) {}

  /** Publishes waiting or in flight. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Resolves with the record's offset in its partition once Kafka has acknowledged it (acks=all). */
  send(record: OutgoingRecord): Promise<number> {
    if (this.closed) return Promise.reject(new BusUnavailableError("bus is closed", "not_written"));
    if (this.pending >= this.options.maxPending) {
      return Promise.reject(new BusUnavailableError("too many publishes waiting for Kafka", "not_written"));
    }
    return new Promise<number>((resolve, reject) => {
      const pending: Pending = {
        ...record,
        bytes: Buffer.byteLength(record.key) + Buffer.byteLength(record.value),
        settled: false,
        sent: false,
        timer: setTimeout(
          () => this.fail(pending, `Kafka did not acknowledge within ${this.options.sendTimeoutMs} ms`),
          this.options.sendTimeoutMs,
        ),
        resolve: (offset) => {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(pending.timer);
          resolve(offset);
        },
        reject: (err) => {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(pending.timer);
          reject(err);
        },
      };
      this.queue.push(pending);
      this.queuedBytes += pending.bytes;
      this.schedule();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.linger);
    for (const pending of this.take(this.queue.length, Number.POSITIVE_INFINITY)) {
      pending.reject(new BusUnavailableError("bus is closed", "not_written"));
    }
    await this.replaceProducer();
  }

  private fail(pending: Pending, reason: string): void {
    const at = this.queue.indexOf(pending);
    // Still waiting: it never reaches Kafka. Already in flight: it may still be written (at least once).
    if (at >= 0) {
      this.queue.splice(at, 1);
      this.queuedBytes -= pending.bytes;
    }
    pending.reject(new BusUnavailableError(reason, pending.sent ? "unknown" : "not_written"));
  }

  private schedule(): void {
    if (this.sending || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatch || this.queuedBytes >= this.options.maxBatchBytes) {
      clearTimeout(this.linger);
      this.linger = undefined;
      void this.flush();
    } else {
      this.linger ??= setTimeout(() => {
        this.linger = undefined;
        void this.flush();
      }, this.options.lingerMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.sending) return;
    const batch = this.take(this.options.maxBatch, this.options.maxBatchBytes);
    if (batch.length === 0) return;
    this.sending = true;
    this.inFlight = batch.length;
    try {
      const producer = await this.ready();
      const topics = new Map<string, { partition: number; key: string; value: string }[]>();
      for (const { topic, partition, key, value } of batch) {
        const list = topics.get(topic) ?? [];
        list.push({ partition, key, value });
        topics.set(topic, list);
      }
      // Until the request is handed to kafkajs, nothing of the batch can have reached Kafka.
      for (const pending of batch) pending.sent = true;
      const request = producer.sendBatch({
        acks: -1,
        topicMessages: [...topics].map(([topic, messages]) => ({ topic, messages })),
      });
      const result = await withTimeout(request, this.options.sendTimeoutMs, "Kafka send");
      this.settle(batch, result);
    } catch (err) {
      this.options.log("warn", "kafka send failed; replacing the producer", {
        ...errorFields(err),
        records: batch.length,
      });
      for (const pending of batch) {
        pending.reject(
          new BusUnavailableError(
            `Kafka send failed: ${String(err)}`,
            pending.sent ? "unknown" : "not_written",
          ),
        );
      }
      await this.replaceProducer();
    } finally {
      this.sending = false;
      this.inFlight = 0;
      if (this.queue.length > 0) {
        clearTimeout(this.linger);
        this.linger = undefined;
        void this.flush();
      }
    }
  }

  /** The oldest waiting records, at most `count` of them and `bytes` in all (but at least one). */
  private take(count: number, bytes: number): Pending[] {
    let n = 0;
    let size = 0;
    while (n < this.queue.length && n < count) {
      const next = this.queue[n]!.bytes;
      if (n > 0 && size + next > bytes) break;
      size += next;
      n++;
    }
    this.queuedBytes -= size;
    return this.queue.splice(0, n);
  }

  private settle(batch: readonly Pending[], result: readonly RecordMetadata[]): void {
    const base = new Map<string, number>();
    for (const meta of result) {
      if (meta.errorCode !== 0 || meta.baseOffset === undefined) continue;
      base.set(`${meta.topicName}/${meta.partition}`, Number(meta.baseOffset));
    }
    const next = new Map<string, number>();
    for (const pending of batch) {
      const where = `${pending.topic}/${pending.partition}`;
      const first = base.get(where);
      const index = next.get(where) ?? 0;
      next.set(where, index + 1);
      if (first === undefined) pending.reject(new BusUnavailableError(`Kafka gave no offset for ${where}`));
      else pending.resolve(first + index);
    }
  }

  private async ready(): Promise<Producer> {
    if (this.closed) throw new BusUnavailableError("bus is closed");
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Records arrive with their partition set; this only silences kafkajs's v2 migration warning.
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded so a dead request gives up; withTimeout() bounds the wait regardless.
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      this.producer = producer;
      this.connected = producer.connect();
    }
    const producer = this.producer;
    await withTimeout(this.connected!, this.options.sendTimeoutMs, "Kafka connect");
    return producer;
  }

  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    this.connected = undefined;
    if (!old) return;
    try {
      await withTimeout(old.disconnect(), 2_000, "Kafka disconnect");
    } catch (err) {
      this.options.log("debug", "kafka producer disconnect failed", errorFields(err));
    }
  }
}

/**
 * Several BatchingProducers side by side, each partition always sent through the same one (partition
 * modulo the number of lanes). A lane has one request in flight, so a partition's records still reach
 * Kafka in the order they were sent, each lane's producer keeps its own idempotent sequence numbers,
 * and every record is still acknowledged with acks=all; but the lanes' requests overlap. With one
 * lane, every SEND that arrived during a request's round trip waited for it to return before its
 * own could leave: at full rate the node went in lock-step, a request out, nothing out until it came
 * back (the broker serves one connection's requests one at a time anyway, so more in flight on one
 * producer would not help either).
 */
export class LanedProducer {
  private readonly lanes: BatchingProducer[];

  constructor(
    kafka: Kafka,
    private readonly options: BatchingProducerOptions & { lanes: number },
  ) {
    this.lanes = Array.from(
      { length: Math.max(1, options.lanes) },
      () => new BatchingProducer(kafka, options),
    );
  }

  /** See BatchingProducer.send; maxPending bounds all lanes together. */
  send(record: OutgoingRecord): Promise<number> {
    let pending = 0;
    for (const lane of this.lanes) pending += lane.pending;
    if (pending >= this.options.maxPending) {
      return Promise.reject(new BusUnavailableError("too many publishes waiting for Kafka", "not_written"));
    }
    return this.lanes[record.partition % this.lanes.length]!.send(record);
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.close()));
  }
}
