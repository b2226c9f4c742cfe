import { describe, expect, test } from "bun:test";
import { isSettled } from "./settle.ts";

const step = (maxMs: number, complete = true) => ({ complete, maxMs });

describe("settle: when subscriptions count as live", () => {
  test("a first step with every copy within a second", () => {
    expect(isSettled([step(300)])).toBe(true);
  });

  test("never while a copy is missing, however fast the rest", () => {
    expect(isSettled([step(200), step(200), step(200, false)])).toBe(false);
  });

  test("a slowest copy still falling step by step is a replay's hold ending, not yet live", () => {
    expect(isSettled([step(4_000), step(2_500), step(1_500)])).toBe(false);
  });

  test("a busy machine: every copy in three steps, the slowest level over a second", () => {
    expect(isSettled([step(1_600), step(1_400), step(1_500)])).toBe(true);
    expect(isSettled([step(1_400), step(1_500)])).toBe(false);
    expect(isSettled([step(1_500, false), step(1_400), step(1_500)])).toBe(false);
  });
});
