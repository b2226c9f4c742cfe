import { describe, expect, test } from "bun:test";
import { type HighWatermarks, ReaderProgress } from "./kafka-progress.ts";
import { BusUnavailableError } from "./types.ts";

/** A lookup the test answers by hand, counting calls. */
function manualLookup() {
  const pending: ((hw: HighWatermarks) => void)[] = [];
  return {
    pending,
    calls: () => pending.length,
    lookup: () => new Promise<HighWatermarks>((resolve) => pending.push(resolve)),
    answer(i: number, hw: Record<number, number>) {
      pending[i]!(new Map(Object.entries(hw).map(([p, o]) => [Number(p), o])));
    },
  };
}

describe("ReaderProgress", () => {
  test("offsets before the reader's start are not owed; later ones are waited for", async () => {
    const m = manualLookup();
    const progress = new ReaderProgress(m.lookup);
    progress.startAt(
      new Map([
        [0, 10],
        [1, 0],
      ]),
    );

    const atStart = progress.caughtUp(0, 1_000);
    m.answer(0, { 0: 10, 1: 0 });
    await atStart;

    let done = false;
    const later = progress.caughtUp(0, 1_000).then(() => {
      done = true;
    });
    m.answer(1, { 0: 13, 1: 0 });
    await Bun.sleep(5);
    progress.advance(1, 50); // another partition does not count
    progress.advance(0, 11);
    await Bun.sleep(5);
    expect(done).toBe(false);
    progress.advance(0, 12);
    await later;
    expect(done).toBe(true);
  });

  test("callers arriving while a lookup is on the wire share the next one, not the stale one", async () => {
    const m = manualLookup();
    const progress = new ReaderProgress(m.lookup);
    progress.startAt(new Map([[0, 0]]));

    const first = progress.caughtUp(0, 1_000);
    expect(m.calls()).toBe(1);
    const waiting = Array.from({ length: 50 }, () => progress.caughtUp(0, 1_000));
    expect(m.calls()).toBe(1); // queued behind the lookup in flight
    m.answer(0, { 0: 0 });
    await first;
    await Bun.sleep(0);
    expect(m.calls()).toBe(2); // one lookup for all fifty
    m.answer(1, { 0: 1 });
    progress.advance(0, 0);
    await Promise.all(waiting);
  });

  test("a reader that stays behind, or a lookup that never answers, rejects after the timeout", async () => {
    const m = manualLookup();
    const progress = new ReaderProgress(m.lookup);
    progress.startAt(new Map([[0, 0]]));
    const behind = progress.caughtUp(0, 30);
    m.answer(0, { 0: 5 });
    await expect(behind).rejects.toBeInstanceOf(BusUnavailableError);
    await expect(progress.caughtUp(0, 30)).rejects.toBeInstanceOf(BusUnavailableError);
  });
});
