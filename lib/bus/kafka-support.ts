import net from "node:net";
import type { Admin, ISocketFactory, KafkaMessage } from "kafkajs";
import "./kafka-request-queue.ts";
import { logLevel } from "kafkajs";
import type { Logger } from "../log/index.ts";

/** kafkajs's log lines, routed into ours; its errors during an outage are warnings for us. */
export function kafkaLogCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: { level: number; log: { message: string } & Record<string, unknown> }) => {
      const { message, timestamp: _t, logger: _l, ...fields } = entry;
      // Bounded retries are deliberate: a failed request replaces the producer (see kafka-producer.ts).
      if (message.startsWith("Limiting retries")) log("debug", `kafka: ${message}`, fields);
      else if (level <= logLevel.WARN) log("warn", `kafka: ${message}`, fields);
      else log("debug", `kafka: ${message}`, fields);
    };
}

export async function ensureTopics(
  admin: Admin,
  topics: string[],
  partitions: number,
  log: Logger,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length === 0) return;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions })),
    });
    log("info", "kafka topics created", { topics: missing, partitions });
  } catch (err) {
    // Another replica may have created them at the same moment.
    const now = new Set(await admin.listTopics());
    if (!missing.every((t) => now.has(t))) throw err;
  }
}

export function parseRecord<T>(record: KafkaMessage, log: Logger): T | undefined {
  try {
    return JSON.parse(record.value?.toString() ?? "") as T;
  } catch {
    log("error", "kafka: skipping a record that is not JSON", { offset: record.offset });
    return undefined;
  }
}

/** kafkajs's own TCP sockets (without TLS, which ChatTalk does not configure). */
const plainSockets: ISocketFactory = ({ host, port, onConnect }) => {
  const socket = net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  return socket;
};

/**
 * The sockets of every Kafka client here, with an `unref` that never piles up listeners. kafkajs unrefs
 * a connection's socket on each disconnect, also when that socket is long closed, and `unref` on a
 * socket without a handle waits for a 'connect' that will never come: one more listener per call.
 * While a broker is down kafkajs disconnects the same dead connections at every consumer restart, and
 * after ten of them the runtime printed a MaxListenersExceededWarning, in plain text, into the JSON log.
 */
export function kafkaSockets(base: ISocketFactory = plainSockets): ISocketFactory {
  return (options) => {
    const socket = base(options);
    const unref = socket.unref.bind(socket);
    let deferred = false;
    socket.unref = () => {
      // Closed: there is nothing left to unref. Connecting: one deferred unref is enough.
      if (socket.destroyed || (socket.connecting && deferred)) return socket;
      deferred ||= socket.connecting;
      return unref();
    };
    return socket;
  };
}

/**
 * Runs an admin lookup again while Kafka answers with a retriable error (a partition without a
 * leader yet, a coordinator loading: a freshly started or restarted broker), for at most `withinMs`.
 */
export async function retryRetriable<T>(call: () => Promise<T>, withinMs = 15_000): Promise<T> {
  const deadline = performance.now() + withinMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await call();
    } catch (err) {
      const retriable = (err as { retriable?: boolean }).retriable === true;
      if (!retriable || performance.now() + wait > deadline) throw err;
      await Bun.sleep(wait);
    }
  }
}
