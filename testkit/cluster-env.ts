import { skipWithout } from "./services.ts";

/** True when the real services a multi-process test needs are absent (and not required). */
export const skipWithoutCluster = (): boolean =>
  skipWithout("kafka") || skipWithout("postgres") || skipWithout("mongo") || skipWithout("redis");

/**
 * Environment for ws-node processes of one test file on the real services: its own Kafka topic and
 * MongoDB database, so runs never share state, and send limits high enough for a test's bursts.
 */
export function clusterEnv(run: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    KAFKA_TOPIC: `chattalk.test.${run}`,
    KAFKA_PARTITIONS: "3",
    MONGO_DB: `chattalk_test_${run}`,
    REDIS_KEY_PREFIX: `chattalk-test-${run}:`,
    JWT_SECRET: "cluster-test-secret-long-enough-for-hs256",
    SEND_RATE_PER_SEC: "1000",
    SEND_BURST: "1000",
    ...extra,
  };
  for (const k of ["KAFKA_BROKERS", "DATABASE_URL", "MONGO_URL", "REDIS_URL"]) {
    const v = process.env[k];
    if (v) env[k] = v;
  }
  return env;
}
