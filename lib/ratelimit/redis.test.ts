import { describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { limiterContract } from "../../testkit/contracts/ratelimit.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { silentLogger } from "../log/index.ts";
import { createRedisLimiterFactory } from "./redis.ts";

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = await createClient({ url }).connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys);
  }
  client.destroy();
}

describe.skipIf(skipWithout("redis"))("Redis limiter contract", () => {
  const url = serviceUrl("redis")!;
  const prefix = `test-ratelimit:${crypto.randomUUID()}:`;
  limiterContract({
    open: async () => createRedisLimiterFactory({ url, prefix, log: silentLogger }),
    shared: true,
    teardown: () => deleteKeys(url, prefix),
    timeoutMs: 10_000,
  });
});

describe.skipIf(skipWithout("redis"))("Redis limiter", () => {
  const url = serviceUrl("redis")!;
  const prefix = `test-ratelimit:${crypto.randomUUID()}:`;

  test("a bucket is one hash under <prefix><name>:<key> that expires soon after it would be full", async () => {
    const make = createRedisLimiterFactory({ url, prefix, log: silentLogger });
    await make.ready();
    const admin = await createClient({ url }).connect();
    try {
      const login = make("login", { ratePerSec: 0.5, burst: 4 });
      expect(await login.take("alice")).toBe(0);
      const bucket = await admin.hGetAll(`${prefix}login:alice`);
      expect(Object.keys(bucket).sort()).toEqual(["tokens", "updated"]);
      expect(Number(bucket.tokens)).toBeLessThan(4);
      const ttl = await admin.pTTL(`${prefix}login:alice`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual((4 / 0.5) * 1_000 + 1_000);
      await login.close();
    } finally {
      await make.close();
      await deleteKeys(url, prefix);
      admin.destroy();
    }
  }, 10_000);
});
