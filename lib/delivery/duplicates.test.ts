import { describe, expect, test } from "bun:test";
import type { ChatMessage } from "../chat/message.ts";
import { CLOCK_MARGIN_MS, DuplicateIndex } from "./duplicates.ts";

const T0 = Date.UTC(2026, 0, 1);
const WINDOW = 60_000;

function copy(
  seq: number,
  clientMsgId: string | undefined,
  atMs: number,
  sender = "u1",
  roomId = "r1",
): ChatMessage {
  const m: ChatMessage = {
    id: `m${seq}`,
    roomId,
    seq,
    type: "message",
    sender: { id: sender, username: sender },
    text: "hi",
    sentAt: new Date(T0 + atMs).toISOString(),
  };
  if (clientMsgId !== undefined) m.clientMsgId = clientMsgId;
  return m;
}

describe("DuplicateIndex: the rule every reader applies", () => {
  test("the first copy is kept; a later copy within the window is dropped, whoever judges it", () => {
    for (const index of [
      new DuplicateIndex({ windowMs: WINDOW, maxKeys: 100 }),
      new DuplicateIndex({ windowMs: WINDOW, maxKeys: 100 }),
    ]) {
      expect(index.admit(copy(10, "a", 0))).toBe(true);
      expect(index.admit(copy(11, "b", 1))).toBe(true);
      expect(index.admit(copy(12, "a", 5_000))).toBe(false);
      expect(index.admit(copy(13, "a", WINDOW))).toBe(false);
      expect(index.stats.dropped).toBe(2);
    }
  });

  test("a message judged again gets the same answer (a redelivered batch)", () => {
    const index = new DuplicateIndex({ windowMs: WINDOW, maxKeys: 100 });
    expect(index.admit(copy(10, "a", 0))).toBe(true);
    expect(index.admit(copy(12, "a", 10))).toBe(false);
    expect(index.admit(copy(10, "a", 0))).toBe(true);
    expect(index.admit(copy(12, "a", 10))).toBe(false);
  });

  test("past the window, a copy is a new message; other senders and rooms have their own ids", () => {
    const index = new DuplicateIndex({ windowMs: WINDOW, maxKeys: 100 });
    expect(index.admit(copy(1, "a", 0))).toBe(true);
    expect(index.admit(copy(2, "a", WINDOW + 1))).toBe(true);
    expect(index.admit(copy(3, "a", WINDOW + 2))).toBe(false);
    expect(index.admit(copy(4, "a", 10, "u2"))).toBe(true);
    expect(index.admit(copy(5, "a", 10, "u1", "r2"))).toBe(true);
    // No client id: always kept.
    expect(index.admit(copy(6, undefined, 10))).toBe(true);
    expect(index.admit(copy(7, undefined, 10))).toBe(true);
  });

  test("lookup finds the kept copy of a message sent now, within the window", () => {
    const index = new DuplicateIndex({ windowMs: WINDOW, maxKeys: 100 });
    index.admit(copy(10, "a", 0));
    expect(index.lookup("r1", "u1", "a", T0 + 1_000)).toBe(10);
    expect(index.lookup("r1", "u1", "a", T0 + WINDOW + 1)).toBeUndefined();
    expect(index.lookup("r1", "u2", "a", T0 + 1_000)).toBeUndefined();
  });

  test("settle answers with the kept copy once the reader has judged the caller's copy", async () => {
    const index = new DuplicateIndex({ windowMs: WINDOW, maxKeys: 100 });
    // Another replica's copy was appended first; ours (12) is judged after it.
    const ours = index.settle("r1", "u1", "a", 12, 1_000);
    index.admit(copy(10, "a", 0));
    index.admit(copy(12, "a", 5));
    expect(await ours).toBe(10);
    // Already judged: at once.
    expect(await index.settle("r1", "u1", "a", 12, 1_000)).toBe(10);
    expect(await index.settle("r1", "u1", "a", 10, 1_000)).toBe(10);
    // Not judged in time: undefined.
    expect(await index.settle("r1", "u1", "b", 20, 20)).toBeUndefined();
  });

  test("old keys go once past the window (plus the clock margin); the oldest go early beyond maxKeys", () => {
    const index = new DuplicateIndex({ windowMs: WINDOW, maxKeys: 3 });
    index.admit(copy(1, "a", 0));
    index.admit(copy(2, "b", 1));
    index.admit(copy(3, "c", 2));
    expect(index.size).toBe(3);
    index.admit(copy(4, "d", 3));
    expect(index.size).toBe(3);
    expect(index.stats.evictedEarly).toBe(1);
    expect(index.lookup("r1", "u1", "a", T0 + 10)).toBeUndefined();
    index.admit(copy(5, "e", WINDOW + CLOCK_MARGIN_MS + 10));
    expect(index.size).toBe(1);
    expect(index.stats.evictedEarly).toBe(1);
  });
});
