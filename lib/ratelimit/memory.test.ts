import { describe, expect, test } from "bun:test";
import { limiterContract } from "../../testkit/contracts/ratelimit.ts";
import { createMemoryLimiter, createMemoryLimiterFactory } from "./memory.ts";

describe("memory limiter contract", () => {
  limiterContract({ open: async () => createMemoryLimiterFactory(), shared: false });
});

describe("memory limiter", () => {
  test("runs on the injected clock, so waits are exact", async () => {
    let clock = 1_000;
    const l = createMemoryLimiter({ ratePerSec: 0.5, burst: 1 }, { now: () => clock });
    expect(await l.take("k")).toBe(0);
    expect(await l.take("k")).toBe(2_000);
    clock += 1_500;
    expect(await l.take("k")).toBe(500);
    clock += 500;
    expect(await l.take("k")).toBe(0);
  });

  test("each limiter a factory makes has its own buckets, even under one name", async () => {
    const make = createMemoryLimiterFactory({ now: () => 0 });
    const first = make("login", { ratePerSec: 1, burst: 1 });
    const second = make("login", { ratePerSec: 1, burst: 1 });
    expect(await first.take("k")).toBe(0);
    expect(await first.take("k")).toBe(1_000);
    expect(await second.take("k")).toBe(0);
  });
});
