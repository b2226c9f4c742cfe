import { describe, expect, test } from "bun:test";
import { KeyedRateLimiter, TokenBucket } from "./token-bucket.ts";

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("TokenBucket", () => {
  test("allows a burst, then refuses until refilled", () => {
    const c = clock();
    const b = new TokenBucket(2, 3, c.now);
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
    expect(b.msUntil()).toBe(500);
    c.advance(500);
    expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
  });

  test("never refills beyond the burst", () => {
    const c = clock();
    const b = new TokenBucket(100, 2, c.now);
    c.advance(60_000);
    expect([b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, false]);
  });
});

describe("KeyedRateLimiter", () => {
  test("limits each key separately and reports the wait", () => {
    const c = clock();
    const l = new KeyedRateLimiter(1, 1, 10, c.now);
    expect(l.take("a")).toBe(0);
    expect(l.take("a")).toBe(1000);
    expect(l.take("b")).toBe(0);
  });

  test("stays bounded under many keys", () => {
    const c = clock();
    const l = new KeyedRateLimiter(1, 1, 100, c.now);
    for (let i = 0; i < 10_000; i++) l.take(`k${i}`);
    expect(l.size).toBeLessThanOrEqual(100);
  });
});
