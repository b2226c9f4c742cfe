import { KeyedRateLimiter } from "./token-bucket.ts";
import { checkLimit, type KeyedLimiter, type LimiterFactory, type RateLimit } from "./types.ts";

/** In-process buckets: each limiter counts only the takes of this process. */
export function createMemoryLimiter(
  limit: RateLimit,
  opts: { now?: () => number; maxKeys?: number } = {},
): KeyedLimiter {
  checkLimit("memory", limit);
  const buckets = new KeyedRateLimiter(limit.ratePerSec, limit.burst, opts.maxKeys, opts.now);
  return {
    take: async (key, cost = 1) => buckets.take(key, cost),
    close: async () => {},
  };
}

/**
 * Memory limiters by name. Every call makes a fresh limiter, so two calls with one name do not share
 * buckets (nor do two processes): a single-replica deployment is the only place this is exact.
 */
export function createMemoryLimiterFactory(opts: { now?: () => number } = {}): LimiterFactory {
  const make = (name: string, limit: RateLimit) => {
    checkLimit(name, limit);
    return createMemoryLimiter(limit, opts);
  };
  return Object.assign(make, { ready: async () => {}, close: async () => {} });
}
