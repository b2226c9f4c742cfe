import { BACKLOG_WRITER_GROUP } from "../backlog/writer.ts";
import type { Config } from "../config/index.ts";
import { kafkaLagProbe, type LagProbe } from "./kafka-lag.ts";
import { createMetrics, type Metrics } from "./metrics.ts";

export { parseExposition, type Sample, sumSamples } from "./exposition.ts";
export { type ConsumerLag, kafkaLagProbe, type LagProbe } from "./kafka-lag.ts";
export { closeReason, createMetrics, type Metrics, type ObservedEndpoint } from "./metrics.ts";
export { metricsMount } from "./mount.ts";

/**
 * The Kafka consumer group the backlog writers form. The Kafka bus names a durable reader's group
 * `<group>.<topic>` (lib/bus/kafka.ts, consume), so installations on other topics never share one;
 * kafka-lag.test.ts pins this against the bus itself.
 */
export function kafkaGroupOf(group: string, topic: string): string {
  return `${group}.${topic}`;
}

/** A lag probe for the backlog writers, when Kafka is configured. */
export function backlogWriterLagProbe(config: Config): LagProbe | undefined {
  if (!config.KAFKA_BROKERS) return undefined;
  return kafkaLagProbe({
    brokers: config.KAFKA_BROKERS,
    topic: config.KAFKA_TOPIC,
    group: kafkaGroupOf(BACKLOG_WRITER_GROUP, config.KAFKA_TOPIC),
  });
}

/**
 * Metrics for one app process. With Kafka configured, the backlog writer group's lag is included:
 * every process that writes the backlog (or wants to watch it) reports the same figure.
 */
export function appMetrics(config: Config, app: string, node?: string, withLag = false): Metrics {
  const metrics = createMetrics({ app, node });
  const lag = withLag ? backlogWriterLagProbe(config) : undefined;
  if (lag) metrics.observeConsumerLag(lag);
  return metrics;
}
