import type { Config } from "../config/index.ts";
import type { Logger } from "../log/index.ts";
import { createMemoryLimiterFactory } from "./memory.ts";
import { createRedisLimiterFactory } from "./redis.ts";
import type { LimiterFactory } from "./types.ts";

export { createMemoryLimiter, createMemoryLimiterFactory } from "./memory.ts";
export { createRedisLimiterFactory } from "./redis.ts";
export type { KeyedLimiter, LimiterFactory, MakeLimiter, RateLimit } from "./types.ts";

/**
 * Redis when REDIS_URL is set, so a limit holds across every replica; else in-process buckets, which
 * are exact only for a single replica. Redis is connected only once a limiter is made (or on ready()).
 */
export function createLimiterFactory(config: Config, log: Logger): LimiterFactory {
  if (!config.REDIS_URL) return createMemoryLimiterFactory();
  return createRedisLimiterFactory({ url: config.REDIS_URL, log });
}
