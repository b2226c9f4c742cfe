import { expect, test } from "bun:test";
import { PageSizer } from "./page-size.ts";

const options = { initial: 200, min: 25, max: 500, targetMs: 20 };

/** Sizes a replay asks for on a backend where a page of n takes fixedMs + perMessageMs * n. */
function sizes(fixedMs: number, perMessageMs: number, pages: number, targetMs = options.targetMs): number[] {
  const sizer = new PageSizer({ ...options, targetMs });
  const asked: number[] = [];
  for (let i = 0; i < pages; i++) {
    const n = sizer.next;
    asked.push(n);
    sizer.record(n, n, fixedMs + perMessageMs * n);
  }
  return asked;
}

test("pages grow while they are quick and shrink while they are slow in proportion to their size", () => {
  expect(sizes(1, 0.01, 4)).toEqual([200, 400, 500, 500]);
  // Cost mostly per message: halving halves the time, down to what meets the target.
  expect(sizes(1, 1, 5)).toEqual([200, 100, 50, 25, 25]);
});

test("pages stop shrinking once a smaller one costs much more per message (a fixed cost per query)", () => {
  // FerretDB-like: 100 ms per query whatever its size, 0.25 ms per document.
  expect(sizes(100, 0.25, 5)).toEqual([200, 100, 200, 200, 200]);
});

test("with a backend's longer read target (MongoDB's 100 ms), FerretDB's pages are read whole from the start", () => {
  // FerretDB as measured: a page of 200 in ~55 ms, of 100 in ~35 ms.
  expect(sizes(15, 0.2, 4)).toEqual([200, 100, 100, 100]);
  expect(sizes(15, 0.2, 4, 100)).toEqual([200, 200, 200, 200]);
});

test("the size kept is never above the initial one", () => {
  const sizer = new PageSizer(options);
  sizer.record(200, 200, 1); // quick: 400
  sizer.record(400, 400, 2); // quick: 500
  sizer.record(500, 500, 100); // slow: 250
  sizer.record(250, 250, 100); // twice as dear per message: keep a larger size, but not 500
  expect(sizer.next).toBe(200);
});

test("a short page (the end of the history) neither grows the next nor counts as a cost sample", () => {
  const sizer = new PageSizer(options);
  sizer.record(200, 7, 1);
  expect(sizer.next).toBe(200);
  sizer.record(200, 7, 100);
  expect(sizer.next).toBe(100);
});
