import { describe, expect, test } from "bun:test";
import { backoffDelay, RECONNECT_BACKOFF } from "./backoff.ts";

describe("reconnect backoff", () => {
  test("doubles from 0.5 s, never waits less than half a step or more than a step, caps at 30 s", () => {
    const low = (n: number) => backoffDelay(n, RECONNECT_BACKOFF, () => 0);
    const high = (n: number) => backoffDelay(n, RECONNECT_BACKOFF, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6].map(high)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000]);
    expect([0, 1, 2, 3].map(low)).toEqual([250, 500, 1000, 2000]);
    expect(high(60)).toBe(30_000);
    expect(low(1000)).toBe(15_000);
  });

  test("jitter spreads clients cut off at once", () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoffDelay(5)));
    expect(delays.size).toBeGreaterThan(100);
    for (const d of delays) expect(d >= 8000 && d <= 16000).toBe(true);
  });
});
