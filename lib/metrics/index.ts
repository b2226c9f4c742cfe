import { BACKLOG_WRITER_GROUP } from "../backlog/writer.ts";
import type { Config } from "../config/index.ts";
import { kafkaLagProbe } from "./kafka-lag.ts";
import { createMetrics, type Metrics } from "./metrics.ts";

export { parseExposition, type Sample, sumSamples } from "./exposition.ts";
export { type ConsumerLag, kafkaLagProbe, type LagProbe } from "./kafka-lag.ts";
export { closeReason, createMetrics, type Metrics, type ObservedEndpoint } from "./metrics.ts";
export { metricsMount } from "./mount.ts";

/**
 * Metrics for one app process. With Kafka configured, the backlog writer group's lag is included:
 * every process that writes the backlog (or wants to watch it) reports the same figure.
 */
export function appMetrics(config: Config, app: string, node?: string, withLag = false): Metrics {
  const metrics = createMetrics({ app, node });
  if (withLag && config.KAFKA_BROKERS) {
    metrics.observeConsumerLag(
      kafkaLagProbe({
        brokers: config.KAFKA_BROKERS,
        topic: config.KAFKA_TOPIC,
        group: BACKLOG_WRITER_GROUP,
      }),
    );
  }
  return metrics;
}
