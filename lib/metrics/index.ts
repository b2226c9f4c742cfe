import { BACKLOG_WRITER_GROUP } from "../backlog/writer.ts";
import { durableGroupId } from "../bus/durable-group.ts";
import { busLogPath } from "../bus/sqlite-log-path.ts";
import type { Config } from "../config/index.ts";
import type { LagProbe } from "./kafka-lag.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { sqliteLagProbe } from "./sqlite-lag.ts";

export { parseExposition, type Sample, sumSamples } from "./exposition.ts";
export type { ConsumerLag, LagProbe } from "./kafka-lag.ts";
export { closeReason, createMetrics, type Metrics, type ObservedEndpoint } from "./metrics.ts";
export { metricsMount } from "./mount.ts";

/**
 * A lag probe for the backlog writers: on Kafka, on the consumer group the Kafka bus really commits
 * under (durableGroupId; kafka-lag.test.ts pins it against the bus itself); else on the embedded
 * `bus.db`.
 */
export function backlogWriterLagProbe(config: Config): LagProbe {
  if (!config.KAFKA_BROKERS) {
    return sqliteLagProbe({
      path: busLogPath(config.DATA_DIR),
      topic: "bus.db",
      group: BACKLOG_WRITER_GROUP,
    });
  }
  const opts = {
    brokers: config.KAFKA_BROKERS,
    topic: config.KAFKA_TOPIC,
    group: durableGroupId(BACKLOG_WRITER_GROUP, config.KAFKA_TOPIC),
  };
  // kafkajs is loaded at the first measurement, so a process on the embedded bus never loads it.
  let probe: Promise<LagProbe> | undefined;
  const kafka = () => (probe ??= import("./kafka-lag.ts").then((m) => m.kafkaLagProbe(opts)));
  return {
    group: opts.group,
    topic: opts.topic,
    measure: async () => (await kafka()).measure(),
    close: async () => {
      if (probe) await (await probe).close();
    },
  };
}

/**
 * Metrics for one app process. With `withLag`, the backlog writer group's lag is included: every
 * process that writes the backlog (or wants to watch it) reports the same figure.
 */
export function appMetrics(config: Config, app: string, node?: string, withLag = false): Metrics {
  const metrics = createMetrics({ app, node });
  const lag = withLag ? backlogWriterLagProbe(config) : undefined;
  if (lag) metrics.observeConsumerLag(lag);
  return metrics;
}
