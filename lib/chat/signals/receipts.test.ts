import { expect, test } from "bun:test";
import type { RoomSignal } from "../../signals/types.ts";
import { receipts } from "./receipts.ts";

const read = (userId: string, seq: number, shared = true): RoomSignal => ({
  kind: "receipts",
  roomId: "r",
  userId,
  username: "",
  data: { seq, shared },
});

test("receipts carry the positions that moved since the last flush, each member once, never backwards", () => {
  const s = receipts.newState("r");
  expect(s.flush()).toBeUndefined();
  expect(s.apply(read("a", 5), 0)).toBe(true);
  expect(s.apply(read("a", 9), 0)).toBe(true);
  expect(s.apply(read("a", 7), 0)).toBe(false);
  expect(s.apply(read("b", 3, false), 0)).toBe(false); // receipts off: never shown
  expect(s.apply(read("c", 2), 0)).toBe(true);
  expect(s.flush()).toEqual({
    type: "receipts",
    roomId: "r",
    positions: [
      { userId: "a", seq: 9 },
      { userId: "c", seq: 2 },
    ],
  });
  expect(s.flush()).toBeUndefined();
  expect(s.current()).toBeUndefined();
  expect(receipts.fromClient).toBeUndefined();
});
