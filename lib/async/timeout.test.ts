import { describe, expect, test } from "bun:test";
import { TimeoutError, waitAtMost, withTimeout } from "./timeout.ts";

describe("withTimeout", () => {
  test("settles like the promise when it is in time", async () => {
    expect(await withTimeout(Promise.resolve(7), 1_000, "quick")).toBe(7);
    await expect(withTimeout(Promise.reject(new Error("boom")), 1_000, "failing")).rejects.toThrow("boom");
  });

  test("rejects with a TimeoutError naming what timed out", async () => {
    const err = await withTimeout(new Promise(() => {}), 20, "redis ping").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe("redis ping timed out after 20 ms");
  });

  test("rejects with the caller's own error when given one", async () => {
    class Unavailable extends Error {}
    const err = await withTimeout(new Promise(() => {}), 20, () => new Unavailable("bus")).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Unavailable);
  });
});

describe("waitAtMost", () => {
  test("returns after the bound without rejecting, or as soon as the promise settles", async () => {
    const started = performance.now();
    await waitAtMost(new Promise(() => {}), 30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    await waitAtMost(Promise.reject(new Error("refused")), 10_000);
    expect(await waitAtMost(Promise.resolve(1), 10_000)).toBeUndefined();
  });
});
