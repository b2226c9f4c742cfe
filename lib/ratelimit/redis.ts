/**
 * Token buckets in Redis, so every http-api replica draws on the same bucket per key: with N replicas
 * behind a balancer, a per-process limiter would let an attacker try N times as often.
 *
 * Each take is one Lua script (atomic, one round trip): read the bucket, refill it by the time elapsed
 * on Redis's own clock (`TIME`, so replicas with skewed clocks agree), take or refuse, write it back and
 * let it expire a little after it would be full again (an expired bucket and a full one are the same).
 *
 * When Redis cannot answer, takes fall back to an in-process bucket per key (the memory adapter's),
 * rather than failing closed or open: login and sign-up must keep working while Redis is down, and
 * during the outage each replica still limits on its own (so the effective limit is N times looser,
 * but never gone). One warning is logged per outage, and one line when Redis answers again. A take
 * that times out may still run in Redis later, so a slow Redis can count a take twice, never zero times.
 */
import { waitAtMost, withTimeout } from "../async/timeout.ts";
import { errorFields, type Logger } from "../log/index.ts";
import { createRedisClient, destroyQuietly } from "../redis/client.ts";
import { LuaScript } from "../redis/lua-script.ts";
import { KeyedRateLimiter } from "./token-bucket.ts";
import { checkLimit, type KeyedLimiter, type LimiterFactory, type RateLimit } from "./types.ts";

export const DEFAULT_PREFIX = "ratelimit:";

/** KEYS[1] = bucket; ARGV = ratePerSec, burst, cost, ttlMs. Returns 0 (taken) or ms to wait. */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate / 1000)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return wait
`;

const take = new LuaScript(TAKE_SCRIPT);

export interface RedisLimiterOptions {
  url: string;
  log: Logger;
  /** Put before `<name>:<key>` in every bucket's key. Default "ratelimit:". */
  prefix?: string;
  /** How long a take waits for Redis before answering from memory. Default 500 ms. */
  timeoutMs?: number;
  /** After a failed or slow take on an open connection, how long takes stay in memory. Default 1 000 ms. */
  retryAfterMs?: number;
  /** Default 2 000 ms. */
  connectTimeoutMs?: number;
  /** How long ready() waits for a first connection before carrying on. Default 2 000 ms. */
  connectWaitMs?: number;
}

/** One connection shared by a factory's limiters, with the outage state that decides the fallback. */
class SharedRedis {
  private readonly client;
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  private down = false;
  private retryAt = 0;
  private closed = false;
  private readonly connecting: Promise<void>;

  constructor(private readonly o: RedisLimiterOptions) {
    this.timeoutMs = o.timeoutMs ?? 500;
    this.retryAfterMs = o.retryAfterMs ?? 1_000;
    // No offline queue: while disconnected a command fails at once and the take is answered in memory.
    this.client = createRedisClient({ url: o.url, connectTimeoutMs: o.connectTimeoutMs ?? 2_000 });
    this.client.on("error", (err: unknown) => this.markDown(err));
    this.client.on("ready", () => this.markUp());
    // Failures arrive as "error" events and the client keeps reconnecting by itself.
    this.connecting = this.client.connect().then(
      () => undefined,
      (err: unknown) => this.markDown(err),
    );
  }

  /** Resolves when connected or after `waitMs`, whichever is first. */
  ready(waitMs: number): Promise<void> {
    return waitAtMost(this.connecting, waitMs);
  }

  /** The bucket's answer, or undefined when Redis cannot give one now (the caller uses memory). */
  async take(key: string, args: string[]): Promise<number | undefined> {
    if (this.closed || !this.client.isReady) return undefined;
    if (this.down && Date.now() < this.retryAt) return undefined;
    try {
      const reply = await withTimeout(take.run(this.client, args, [key]), this.timeoutMs, "ratelimit take");
      if (typeof reply !== "number") throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      this.markUp();
      return reply;
    } catch (err) {
      this.markDown(err);
      this.retryAt = Date.now() + this.retryAfterMs;
      return undefined;
    }
  }

  private markDown(err: unknown): void {
    if (this.down || this.closed) return;
    this.down = true;
    this.o.log("warn", "ratelimit: redis unavailable, limiting in memory on this replica until it is back", {
      ...errorFields(err),
    });
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.retryAt = 0;
    this.o.log("info", "ratelimit: redis available again");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    destroyQuietly(this.client);
  }
}

/**
 * Limiters whose buckets live in Redis under `<prefix><name>:<key>`, all sharing one connection that
 * opens with the first limiter (or ready()), so a process that makes none never connects. Until the
 * connection is ready, takes are answered in memory.
 */
export function createRedisLimiterFactory(o: RedisLimiterOptions): LimiterFactory {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  let shared: SharedRedis | undefined;
  let closed = false;
  const connection = () => {
    shared ??= new SharedRedis(o);
    return shared;
  };

  const make = (name: string, limit: RateLimit): KeyedLimiter => {
    checkLimit(name, limit);
    const redis = connection();
    let open = true;
    const fallback = new KeyedRateLimiter(limit.ratePerSec, limit.burst);
    const rate = String(limit.ratePerSec);
    const burst = String(limit.burst);
    // A little past the time an empty bucket takes to fill, so idle keys vanish on their own.
    const ttlMs = String(Math.ceil((limit.burst / limit.ratePerSec) * 1000) + 1_000);
    return {
      async take(key, cost = 1) {
        const args = [rate, burst, String(cost), ttlMs];
        const wait = open ? await redis.take(`${prefix}${name}:${key}`, args) : undefined;
        return wait ?? fallback.take(key, cost);
      },
      // The connection is the factory's; a closed limiter only stops asking Redis.
      async close() {
        open = false;
      },
    };
  };

  return Object.assign(make, {
    async ready() {
      if (!closed) await connection().ready(o.connectWaitMs ?? 2_000);
    },
    async close() {
      closed = true;
      await shared?.close();
    },
  });
}
