import { describe, expect, test } from "bun:test";
import type { ChatMessage } from "../../lib/chat/message.ts";
import { approxBytes, RecentMessages } from "./recent-messages.ts";

const msg = (roomId: string, seq: number, text = "hello"): ChatMessage => ({
  id: `${roomId}-${seq}`,
  roomId,
  seq,
  type: "message",
  sender: { id: "u1", username: "mina" },
  text,
  sentAt: new Date(0).toISOString(),
});
const seqs = (list: ChatMessage[]) => list.map((m) => m.seq);

describe("RecentMessages", () => {
  test("holds a room's newest messages; covers exactly the range it holds", () => {
    const r = new RecentMessages({ perRoom: 3, maxBytes: 1 << 20 });
    for (const seq of [10, 12, 15, 20]) r.push(msg("a", seq));
    expect(r.latestSeq("a")).toBe(20);
    expect(seqs(r.between("a", 0, 100))).toEqual([12, 15, 20]);
    expect(seqs(r.between("a", 12, 15))).toEqual([15]);
    // 10 was dropped: everything after it is held, nothing before.
    expect(r.covers("a", 10)).toBe(true);
    expect(r.covers("a", 11)).toBe(true);
    expect(r.covers("a", 9)).toBe(false);
    // Nothing missed at or past the end.
    expect(r.covers("a", 20)).toBe(true);
    expect(r.covers("unknown", 0)).toBe(false);
  });

  test("a room's first message covers only itself onwards (what came before is unknown)", () => {
    const r = new RecentMessages({ perRoom: 10, maxBytes: 1 << 20 });
    r.push(msg("a", 7));
    expect(r.covers("a", 6)).toBe(true);
    expect(r.covers("a", 5)).toBe(false);
  });

  test("a message handed over twice is kept once", () => {
    const r = new RecentMessages({ perRoom: 10, maxBytes: 1 << 20 });
    r.push(msg("a", 1));
    r.push(msg("a", 2));
    r.push(msg("a", 2));
    r.push(msg("a", 1));
    expect(seqs(r.between("a", 0, 10))).toEqual([1, 2]);
  });

  test("bounded in bytes: the least recently active room goes first, its latest seq stays", () => {
    const one = approxBytes(msg("a", 1));
    const r = new RecentMessages({ perRoom: 100, maxBytes: one * 4 });
    r.push(msg("a", 1));
    r.push(msg("a", 2));
    r.push(msg("b", 3));
    r.push(msg("b", 4));
    expect(r.bytes).toBe(one * 4);
    r.push(msg("c", 5)); // over budget: room a (least recently active) is dropped
    expect(r.bytes).toBeLessThanOrEqual(one * 4);
    expect(r.between("a", 0, 10)).toEqual([]);
    expect(r.latestSeq("a")).toBe(2);
    expect(seqs(r.between("b", 0, 10))).toEqual([3, 4]);
    // Its next message starts a ring that holds everything after the last seq seen.
    r.push(msg("a", 9));
    expect(r.covers("a", 2)).toBe(true);
    expect(r.covers("a", 1)).toBe(false);
  });

  test("one room larger than the whole budget keeps its newest messages", () => {
    const big = "x".repeat(1000);
    const r = new RecentMessages({ perRoom: 1000, maxBytes: approxBytes(msg("a", 1, big)) * 3 });
    for (let seq = 1; seq <= 10; seq++) r.push(msg("a", seq, big));
    expect(seqs(r.between("a", 0, 100))).toEqual([8, 9, 10]);
    expect(r.covers("a", 7)).toBe(true);
    expect(r.covers("a", 6)).toBe(false);
  });

  test("dropping stays correct across many rounds (the ring compacts itself)", () => {
    const r = new RecentMessages({ perRoom: 100, maxBytes: 1 << 30 });
    for (let seq = 1; seq <= 10_000; seq++) r.push(msg("a", seq));
    expect(seqs(r.between("a", 0, 20_000))).toEqual(Array.from({ length: 100 }, (_, i) => 9_901 + i));
    expect(r.bytes).toBe(100 * approxBytes(msg("a", 1)));
  });
});

describe("RecentMessages amendments", () => {
  test("edits, deletes and a deleted account's leave change the held lines as the backlog does", () => {
    const r = new RecentMessages({ perRoom: 100, maxBytes: 1 << 20 });
    const bob = { id: "u2", username: "bob" };
    const at = (s: number) => new Date(s * 1000).toISOString();
    const first = msg("a", 1, "helo");
    r.push(first);
    r.push({ ...msg("a", 2, "secret"), sender: bob });
    r.push({ ...msg("a", 3, "hello"), type: "edit", target: { id: "a-1", seq: 1 }, sentAt: at(3) });
    r.push({ ...msg("a", 4, ""), type: "delete", sender: bob, target: { id: "a-2", seq: 2 }, sentAt: at(4) });
    r.push({ ...msg("a", 5, "still secret"), type: "edit", sender: bob, target: { id: "a-2", seq: 2 } });
    r.push({
      ...msg("a", 6, "deleted user left"),
      type: "leave",
      sender: { id: "u1", username: "deleted user" },
      accountDeleted: true,
    });
    const held = r.between("a", 0, 10);
    expect(held.map((m) => [m.seq, m.type, m.text, m.sender.username])).toEqual([
      [1, "message", "hello", "deleted user"],
      [2, "message", "", "bob"],
      [3, "edit", "hello", "deleted user"],
      [4, "delete", "", "bob"],
      [5, "edit", "", "bob"],
      [6, "leave", "deleted user left", "deleted user"],
    ]);
    expect(held[0]!.editedAt).toBe(at(3));
    expect(held[1]).toMatchObject({ deletedAt: at(4) });
    expect(held[1]!.editedAt).toBeUndefined();
    // The objects handed to subscribers are never changed.
    expect(first.text).toBe("helo");
    expect(first.sender.username).toBe("mina");
  });
});
