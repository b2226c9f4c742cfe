/** Kafka test support: a topic of the test's own on the shared broker, and connections that can be cut. */
import net from "node:net";
import { type ISocketFactory, Kafka, logLevel } from "kafkajs";
import type { KafkaBusOptions } from "../lib/bus/kafka.ts";
import { serviceUrl } from "./services.ts";

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
      await admin.deleteTopics({ topics: [topic, `${topic}.control`] });
    } finally {
      await admin.disconnect();
    }
  };
  return { brokers, topic, options, drop };
}

/**
 * Sockets that can be cut: while cut, every connection this client opens goes to a closed port, as if
 * the broker were down for this client alone (the shared broker keeps serving other tests).
 */
export function cuttableSockets() {
  const open = new Set<net.Socket>();
  let cut = false;
  const factory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = cut ? net.connect({ host: "127.0.0.1", port: 1 }) : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    return socket;
  };
  return {
    factory,
    cutOff() {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      cut = false;
    },
  };
}
