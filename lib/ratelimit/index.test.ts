import { describe, expect, test } from "bun:test";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { parseConfig } from "../config/index.ts";
import { silentLogger } from "../log/index.ts";
import { createLimiterFactory } from "./index.ts";

const limit = { ratePerSec: 0.01, burst: 1 };

/** Two factories from one configuration, as two replicas would make them. */
async function replicasShareABucket(env: Record<string, string>): Promise<boolean> {
  const config = parseConfig(env);
  const [a, b] = [createLimiterFactory(config, silentLogger), createLimiterFactory(config, silentLogger)];
  try {
    await Promise.all([a.ready(), b.ready()]);
    const name = `index-test-${crypto.randomUUID()}`;
    expect(await a(name, limit).take("k")).toBe(0);
    return (await b(name, limit).take("k")) > 0;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

describe("createLimiterFactory", () => {
  test("without REDIS_URL each process keeps its own buckets", async () => {
    expect(await replicasShareABucket({})).toBe(false);
  });

  test.skipIf(skipWithout("redis"))("with REDIS_URL every replica draws on the same bucket", async () => {
    expect(await replicasShareABucket({ REDIS_URL: serviceUrl("redis")! })).toBe(true);
  });
});
