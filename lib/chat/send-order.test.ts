import { expect, test } from "bun:test";
import { SendOrder } from "./send-order.ts";

test("each place's turn comes after every earlier place is done, whichever finishes its lookup first", async () => {
  const order = new SendOrder();
  const queued: number[] = [];
  // Three messages whose lookups take 15, 0 and 5 ms; the second is refused (done without queuing).
  const send = async (n: number, lookupMs: number, refused = false) => {
    const place = order.next();
    try {
      await Bun.sleep(lookupMs);
      if (refused) return;
      await place.turn();
      queued.push(n);
    } finally {
      place.done();
    }
  };
  await Promise.all([send(1, 15), send(2, 0, true), send(3, 5), send(4, 0)]);
  expect(queued).toEqual([1, 3, 4]);
});

test("a place whose earlier places are all done takes its turn at once", () => {
  const order = new SendOrder();
  const first = order.next();
  const second = order.next();
  expect(first.turn()).toBeUndefined();
  expect(second.turn()).toBeInstanceOf(Promise);
  first.done();
  expect(second.turn()).toBeUndefined();
});
