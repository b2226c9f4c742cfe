/**
 * Tests that need a real backend ask for its URL here. `scripts/test` starts the services, exports
 * their URLs and sets CHATTALK_REQUIRE_SERVICES=1, so in CI a missing service fails the test loudly;
 * a developer running plain `bun test` without services sees those tests skipped, by name.
 */
export type ServiceName = "postgres" | "redis" | "kafka" | "mongo" | "nginx";

const envKey: Record<ServiceName, string> = {
  postgres: "DATABASE_URL",
  redis: "REDIS_URL",
  kafka: "KAFKA_BROKERS",
  mongo: "MONGO_URL",
  nginx: "NGINX_BIN",
};

export const servicesRequired = process.env.CHATTALK_REQUIRE_SERVICES === "1";

/** The service's address from the environment, or undefined when it is absent and not required. */
export function serviceUrl(name: ServiceName): string | undefined {
  const value = process.env[envKey[name]];
  if (value) return value;
  if (servicesRequired) {
    throw new Error(`${name} is required (CHATTALK_REQUIRE_SERVICES=1) but ${envKey[name]} is not set`);
  }
  return undefined;
}

/** True when the tests for this service should be skipped (service absent and not required). */
export function skipWithout(name: ServiceName): boolean {
  return serviceUrl(name) === undefined;
}
