import { expect, test } from "bun:test";
import { percentile, rng } from "./stats.ts";

test("percentiles by nearest rank", () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  expect(percentile(xs, 0.5)).toBe(50);
  expect(percentile(xs, 0.99)).toBe(99);
  expect(percentile(xs, 1)).toBe(100);
  expect(percentile([], 0.5)).toBe(0);
  expect(percentile([7], 0.99)).toBe(7);
});

test("the same seed draws the same numbers; another seed others", () => {
  const a = rng(42);
  const b = rng(42);
  const c = rng(43);
  const xs = Array.from({ length: 5 }, () => a());
  expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
  expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
  for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
});
