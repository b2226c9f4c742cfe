/** Kafka test support: a topic of the test's own on the shared broker, and connections that can be cut. */
import net from "node:net";
import { type ISocketFactory, Kafka, logLevel } from "kafkajs";
import type { KafkaBusOptions } from "../lib/bus/kafka.ts";
import { serviceUrl } from "./services.ts";
import "../lib/bus/kafka-request-queue.ts"; // kafkajs without a 1 ms timer spinning per connection

/** A fresh topic per run, deleted afterwards with its control topic. */
export function testTopic() {
  // Read even when the suite is skipped (describe bodies still run), so tolerate an absent URL.
  const brokers = (serviceUrl("kafka") ?? "").split(",");
  const topic = `chattalk-test-${crypto.randomUUID().slice(0, 8)}`;
  const options = (extra: Partial<KafkaBusOptions> = {}): KafkaBusOptions => ({
    brokers,
    topic,
    partitions: 3,
    sendTimeoutMs: 5_000,
    retryMinMs: 20,
    retryMaxMs: 200,
    ...extra,
  });
  const drop = async () => {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      // Only those a test created: a filtered run may never have opened a bus on this topic.
      const existing = new Set(await admin.listTopics());
      const topics = [topic, `${topic}.control`].filter((t) => existing.has(t));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    } finally {
      await admin.disconnect();
    }
  };
  return { brokers, topic, options, drop };
}

/** A local server that accepts each connection and resets it: toxiproxy in front of a stopped broker. */
let resetter: Promise<number> | undefined;
function resettingPort(): Promise<number> {
  resetter ??= new Promise((resolve) => {
    const server = net.createServer((s) => s.resetAndDestroy());
    server.unref();
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
  return resetter;
}

/**
 * Sockets that can be cut: while cut, every connection this client opens is accepted and reset at
 * once, as by a proxy whose broker is down, for this client alone (the shared broker keeps serving
 * other tests). Call `ready()` before cutting.
 */
export function cuttableSockets() {
  const open = new Set<net.Socket>();
  let cut = false;
  let resetPort = 1;
  const factory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = cut
      ? net.connect({ host: "127.0.0.1", port: resetPort }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    return socket;
  };
  return {
    factory,
    async cutOff() {
      resetPort = await resettingPort();
      cut = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      cut = false;
    },
  };
}
