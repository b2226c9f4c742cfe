/**
 * A rate limiter by key (username, client address): the port the HTTP API uses for login and
 * sign-up limits. The memory adapter limits one process; the Redis adapter shares each bucket
 * across every replica.
 */

/** A token bucket's shape: `burst` at once, then `ratePerSec` on average. */
export interface RateLimit {
  ratePerSec: number;
  burst: number;
}

export interface KeyedLimiter {
  /** Takes `cost` (default 1) from the key's bucket: 0 when allowed, otherwise ms to wait before retrying. */
  take(key: string, cost?: number): Promise<number>;
  /** Releases what the limiter holds; it must not be used afterwards. */
  close(): Promise<void>;
}

/** Makes the limiter called `name`; limiters of different names never share buckets. */
export type MakeLimiter = (name: string, limit: RateLimit) => KeyedLimiter;

/** A MakeLimiter that owns what its limiters share (a connection), released by close(). */
export interface LimiterFactory extends MakeLimiter {
  /** Resolves once limiters can reach their shared state, or after a bounded wait; never rejects. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Throws unless the limit can ever allow a take: a positive rate and a burst of at least one. */
export function checkLimit(name: string, limit: RateLimit): void {
  if (!(limit.ratePerSec > 0 && Number.isFinite(limit.ratePerSec))) {
    throw new RangeError(`rate limit ${name}: ratePerSec must be a positive number`);
  }
  if (!(limit.burst >= 1 && Number.isFinite(limit.burst))) {
    throw new RangeError(`rate limit ${name}: burst must be at least 1`);
  }
}
