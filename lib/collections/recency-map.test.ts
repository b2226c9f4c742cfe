import { describe, expect, test } from "bun:test";
import { RecencyMap } from "./recency-map.ts";

/** Keys from least to most recently used, by taking the least recent one after another. */
function order(m: RecencyMap<string, number>): string[] {
  const out: string[] = [];
  for (let e = m.leastRecent(); e; e = m.leastRecent()) {
    out.push(e[0]);
    m.delete(e[0]);
  }
  return out;
}

describe("RecencyMap", () => {
  test("values by key; set and touch make a key the most recent, get does not", () => {
    const m = new RecencyMap<string, number>();
    m.set("a", 1);
    m.set("b", 2);
    m.set("c", 3);
    expect(m.leastRecent()).toEqual(["a", 1]);
    expect(m.get("a")).toBe(1);
    expect(m.leastRecent()).toEqual(["a", 1]);
    m.set("a", 10);
    expect(m.leastRecent()).toEqual(["b", 2]);
    expect(m.touch("b")).toBe(true);
    expect(m.touch("zz")).toBe(false);
    expect(m.size).toBe(3);
    expect(order(m)).toEqual(["c", "a", "b"]);
    expect(m.size).toBe(0);
    expect(m.leastRecent()).toBeUndefined();
  });

  test("deleting the newest, the oldest or one between keeps the order of the rest", () => {
    const m = new RecencyMap<string, number>();
    for (const [i, k] of ["a", "b", "c", "d", "e"].entries()) m.set(k, i);
    expect(m.delete("e")).toBe(true);
    expect(m.delete("a")).toBe(true);
    expect(m.delete("c")).toBe(true);
    expect(m.delete("c")).toBe(false);
    expect(m.has("b")).toBe(true);
    m.set("f", 5);
    m.touch("b");
    expect(order(m)).toEqual(["d", "f", "b"]);
  });

  test("agrees with a plain array model over many random operations", () => {
    const m = new RecencyMap<string, number>();
    const model: [string, number][] = [];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 5_000; i++) {
      const key = `k${rand(40)}`;
      const op = rand(4);
      const at = model.findIndex(([k]) => k === key);
      if (op === 0) {
        m.set(key, i);
        if (at >= 0) model.splice(at, 1);
        model.push([key, i]);
      } else if (op === 1) {
        expect(m.touch(key)).toBe(at >= 0);
        if (at >= 0) model.push(...model.splice(at, 1));
      } else if (op === 2) {
        expect(m.delete(key)).toBe(at >= 0);
        if (at >= 0) model.splice(at, 1);
      } else {
        expect(m.get(key)).toBe(at >= 0 ? model[at]![1] : undefined);
      }
      expect(m.size).toBe(model.length);
      expect(m.leastRecent()).toEqual(model[0]);
    }
  });
});
