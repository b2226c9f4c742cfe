/**
 * A topic's id (KIP-516): the 16-byte UUID Kafka gives a topic when it is created, new for every
 * incarnation of a name. The Kafka bus makes it part of each room log's epoch, so a topic deleted and
 * created again is told apart from the one the backlog was written from. kafkajs speaks Metadata only
 * up to v6, which has no topic ids, so this sends one Metadata v12 request (Kafka 3.1+) itself.
 */
import { connect, type Socket } from "node:net";
import { withTimeout } from "../async/timeout.ts";

const METADATA = 3;
const VERSION = 12;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** The broker does not (yet) know the topic: deleted, or created a moment ago on another broker. */
export class UnknownTopicError extends Error {
  override readonly name = "UnknownTopicError";
}

/** fetchTopicId, asking again for a while when the topic is not known yet (just created elsewhere). */
export async function fetchTopicIdOnceKnown(brokers: readonly string[], topic: string, waitMs = 5_000) {
  const deadline = performance.now() + waitMs;
  for (;;) {
    try {
      return await fetchTopicId(brokers, topic);
    } catch (err) {
      if (!(err instanceof UnknownTopicError) || performance.now() > deadline) throw err;
      await Bun.sleep(100);
    }
  }
}

/** The topic's id as 32 hex digits, asked of the first broker that answers. */
export async function fetchTopicId(
  brokers: readonly string[],
  topic: string,
  timeoutMs = 5_000,
): Promise<string> {
  const failures: unknown[] = [];
  for (const broker of brokers) {
    const colon = broker.lastIndexOf(":");
    try {
      const response = await withTimeout(
        request(broker.slice(0, colon), Number(broker.slice(colon + 1)), metadataRequest(topic)),
        timeoutMs,
        `Kafka metadata from ${broker}`,
      );
      return topicIdFrom(response, topic);
    } catch (err) {
      failures.push(err);
    }
  }
  // A broker that answered "unknown topic" says more than one that could not be reached.
  const failure = failures.find((e) => e instanceof UnknownTopicError) ?? failures.at(-1);
  throw failure instanceof Error ? failure : new Error(`no broker answered for the id of topic ${topic}`);
}

/** Request header v2 and a Metadata v12 body asking for one topic, without creating it. */
export function metadataRequest(topic: string, correlationId = 1): Uint8Array {
  const w = new Writer();
  w.int16(METADATA).int16(VERSION).int32(correlationId);
  w.int16(-1); // client_id: null
  w.uvarint(0); // header tags
  w.uvarint(2); // topics: one (compact arrays count + 1)
  w.bytes(new Uint8Array(16)); // topic_id: zero, asking by name
  w.compactString(topic);
  w.uvarint(0); // topic tags
  w.int8(0); // allow_auto_topic_creation
  w.int8(0); // include_topic_authorized_operations
  w.uvarint(0); // body tags
  return w.framed();
}

/** The topic's id from a Metadata v12 response (after its size prefix); throws on a topic error. */
export function topicIdFrom(response: Uint8Array, topic: string): string {
  const r = new Reader(response);
  r.int32(); // correlation_id
  r.tags();
  r.int32(); // throttle_time_ms
  for (let n = r.uvarint() - 1; n > 0; n--) {
    r.int32(); // node_id
    r.compactString(); // host
    r.int32(); // port
    r.compactString(); // rack
    r.tags();
  }
  r.compactString(); // cluster_id
  r.int32(); // controller_id
  for (let n = r.uvarint() - 1; n > 0; n--) {
    const errorCode = r.int16();
    const name = r.compactString();
    const id = r.hex(16);
    r.int8(); // is_internal
    for (let p = r.uvarint() - 1; p > 0; p--) {
      r.int16(); // error_code
      r.int32(); // partition_index
      r.int32(); // leader_id
      r.int32(); // leader_epoch
      for (let k = 0; k < 3; k++) for (let m = r.uvarint() - 1; m > 0; m--) r.int32(); // replicas, isr, offline
      r.tags();
    }
    r.int32(); // topic_authorized_operations
    r.tags();
    if (name !== topic) continue;
    if (errorCode === UNKNOWN_TOPIC_OR_PARTITION)
      throw new UnknownTopicError(`Kafka does not know topic ${topic}`);
    if (errorCode !== 0) throw new Error(`Kafka metadata for topic ${topic}: error code ${errorCode}`);
    if (/^0+$/.test(id)) throw new Error(`Kafka gave topic ${topic} no id (a broker before 2.8?)`);
    return id;
  }
  throw new Error(`Kafka metadata did not describe topic ${topic}`);
}

/** One request on a fresh connection: resolves with the response after its size prefix. */
function request(host: string, port: number, bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port });
    let received = Buffer.alloc(0);
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      socket.destroy();
      resolve(new Uint8Array(received.subarray(4, 4 + size)));
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`Kafka at ${host}:${port} closed the connection`)));
  });
}

class Writer {
  private readonly parts: number[] = [];

  int8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  int16(v: number): this {
    return this.int8(v >> 8).int8(v);
  }
  int32(v: number): this {
    return this.int16(v >> 16).int16(v);
  }
  uvarint(v: number): this {
    while (v >= 0x80) {
      this.int8((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    return this.int8(v);
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  compactString(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.uvarint(b.length + 1).bytes(b);
  }
  /** The message with its int32 size prefix. */
  framed(): Uint8Array {
    const out = new Uint8Array(4 + this.parts.length);
    new DataView(out.buffer).setInt32(0, this.parts.length);
    out.set(this.parts, 4);
    return out;
  }
}

class Reader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private need(n: number): number {
    if (this.at + n > this.b.length) throw new Error("Kafka metadata response ended early");
    const start = this.at;
    this.at += n;
    return start;
  }
  int8(): number {
    return this.view.getInt8(this.need(1));
  }
  int16(): number {
    return this.view.getInt16(this.need(2));
  }
  int32(): number {
    return this.view.getInt32(this.need(4));
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.b[this.need(1)]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
    throw new Error("Kafka metadata response has a malformed varint");
  }
  compactString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    const start = this.need(n - 1);
    return new TextDecoder().decode(this.b.subarray(start, start + n - 1));
  }
  hex(n: number): string {
    const start = this.need(n);
    return Buffer.from(this.b.subarray(start, start + n)).toString("hex");
  }
  tags(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint(); // tag
      this.need(this.uvarint());
    }
  }
}
