import { afterAll, beforeAll, expect, test } from "bun:test";
import type { KeyedLimiter, LimiterFactory, RateLimit } from "../../lib/ratelimit/types.ts";

/**
 * Opens one limiter factory; for a shared adapter two factories behave like two replicas on one
 * Redis. `teardown` runs once after the suite (delete the run's keys).
 */
export interface LimiterFixture {
  open(): Promise<LimiterFactory>;
  /** True when limiters of one name made by different factories draw on the same buckets. */
  shared: boolean;
  teardown?(): Promise<void>;
  /** Per-test limit; real services need more than bun's 5 s default. */
  timeoutMs?: number;
}

/**
 * The behaviour every KeyedLimiter adapter must have. Call inside a describe(). Rates are small and
 * the suite sleeps only for the wait a limiter itself returned (plus a margin), so a slow machine can
 * only add tokens: outcomes are asserted, never speed.
 */
export function limiterContract(fixture: LimiterFixture): void {
  let a: LimiterFactory;
  let b: LimiterFactory;
  const run = crypto.randomUUID().slice(0, 8);
  const timeout = fixture.timeoutMs ?? 5_000;
  const name = (what: string) => `${run}-${what}`;
  const made: KeyedLimiter[] = [];
  const limiter = (factory: LimiterFactory, what: string, limit: RateLimit) => {
    const l = factory(name(what), limit);
    made.push(l);
    return l;
  };
  const takes = (l: KeyedLimiter, key: string, n: number) =>
    Promise.all(Array.from({ length: n }, () => l.take(key)));

  beforeAll(async () => {
    a = await fixture.open();
    b = await fixture.open();
    await Promise.all([a.ready(), b.ready()]);
  }, timeout);
  afterAll(async () => {
    await Promise.all(made.map((l) => l.close()));
    await a?.close();
    await b?.close();
    await fixture.teardown?.();
  }, timeout);

  test(
    "a new key allows `burst` takes, then refuses with a wait of at most one token's refill",
    async () => {
      const l = limiter(a, "burst", { ratePerSec: 0.5, burst: 3 });
      expect(await takes(l, "alice", 3)).toEqual([0, 0, 0]);
      const wait = await l.take("alice");
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(2_000);
      // A refusal takes nothing, so asking again does not push the wait further out.
      const again = await l.take("alice");
      expect(again).toBeGreaterThan(0);
      expect(again).toBeLessThanOrEqual(wait);
    },
    timeout,
  );

  test(
    "a cost takes that many tokens, and a refused cost leaves the rest for cheaper takes",
    async () => {
      const l = limiter(a, "cost", { ratePerSec: 1, burst: 5 });
      expect(await l.take("k", 3)).toBe(0);
      const wait = await l.take("k", 3);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(1_000);
      expect(await l.take("k", 2)).toBe(0);
    },
    timeout,
  );

  test(
    "after the returned wait the key is allowed again",
    async () => {
      const l = limiter(a, "refill", { ratePerSec: 20, burst: 1 });
      expect(await l.take("k")).toBe(0);
      const wait = await l.take("k");
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(50);
      await Bun.sleep(wait + 30);
      expect(await l.take("k")).toBe(0);
    },
    timeout,
  );

  test(
    "refill stops at burst, however long the key was idle",
    async () => {
      const l = limiter(a, "cap", { ratePerSec: 4, burst: 2 });
      expect(await takes(l, "k", 2)).toEqual([0, 0]);
      await Bun.sleep(750); // three tokens' worth
      const [first, second, third] = await takes(l, "k", 3);
      expect([first, second]).toEqual([0, 0]);
      expect(third).toBeGreaterThan(0);
    },
    timeout,
  );

  test(
    "keys are independent, and so are limiters of different names",
    async () => {
      const login = limiter(a, "login", { ratePerSec: 0.1, burst: 2 });
      const signup = limiter(a, "signup", { ratePerSec: 0.1, burst: 2 });
      expect(await takes(login, "198.51.100.1", 2)).toEqual([0, 0]);
      expect(await login.take("198.51.100.1")).toBeGreaterThan(0);
      expect(await takes(login, "198.51.100.2", 2)).toEqual([0, 0]);
      expect(await takes(signup, "198.51.100.1", 2)).toEqual([0, 0]);
    },
    timeout,
  );

  test("a limit that could never allow a take is refused when the limiter is made", () => {
    expect(() => a(name("zero-rate"), { ratePerSec: 0, burst: 5 })).toThrow(RangeError);
    expect(() => a(name("no-burst"), { ratePerSec: 1, burst: 0 })).toThrow(RangeError);
  });

  if (fixture.shared) {
    test(
      "two factories (two replicas) draw on one bucket per name and key",
      async () => {
        const limit = { ratePerSec: 0.1, burst: 4 };
        const onA = limiter(a, "replicas", limit);
        const onB = limiter(b, "replicas", limit);
        for (const l of [onA, onB, onA, onB]) expect(await l.take("bob")).toBe(0);
        expect(await onA.take("bob")).toBeGreaterThan(0);
        expect(await onB.take("bob")).toBeGreaterThan(0);
        expect(await onB.take("carol")).toBe(0);
      },
      timeout,
    );
  }
}
