import { describe, expect, test } from "bun:test";
import type { ChatMessage } from "../core/api.ts";
import { type Row, rowMeta } from "./rows.ts";

const me = { id: "me", username: "me" };
const now = new Date("2030-05-10T15:00:00");
const row = (seq: number, sender: string, at: string, type: ChatMessage["type"] = "message"): Row => ({
  kind: "message",
  m: {
    id: `m${seq}`,
    roomId: "r",
    seq,
    type,
    sender: { id: sender, username: sender },
    text: "x",
    sentAt: new Date(at).toISOString(),
  },
});
const o = { dividerSeq: null, hasOlder: false, me, now };

describe("row decoration", () => {
  test("date separators between days; 'Today' and 'Yesterday' by the user's clock", () => {
    const a = row(1, "a", "2030-05-09T23:50:00");
    const b = row(2, "a", "2030-05-10T00:10:00");
    expect(rowMeta(a, undefined, o)).toMatchObject({ start: true, day: "Yesterday" });
    expect(rowMeta(b, a, o)).toMatchObject({ start: false, day: "Today", grouped: false });
    expect(rowMeta(row(3, "a", "2030-05-10T00:11:00"), b, o).day).toBeNull();
  });

  test("one sender's messages within five minutes share a header; a gap, another sender or a join line break it", () => {
    const a = row(1, "a", "2030-05-10T10:00:00");
    expect(rowMeta(row(2, "a", "2030-05-10T10:04:00"), a, o).grouped).toBe(true);
    expect(rowMeta(row(2, "a", "2030-05-10T10:06:00"), a, o).grouped).toBe(false);
    expect(rowMeta(row(2, "b", "2030-05-10T10:01:00"), a, o).grouped).toBe(false);
    expect(rowMeta(row(2, "a", "2030-05-10T10:01:00", "join"), a, o).grouped).toBe(false);
    expect(rowMeta(row(2, "a", "2030-05-10T10:01:00"), a, { ...o, dividerSeq: 2 })).toMatchObject({
      divider: true,
      grouped: false,
    });
  });

  test("the first loaded row, with older history still to load, claims neither a date nor the start", () => {
    expect(rowMeta(row(9, "a", "2030-05-10T10:00:00"), undefined, { ...o, hasOlder: true })).toEqual({
      start: false,
      day: null,
      divider: false,
      grouped: false,
    });
  });

  test("our own messages still on their way group with our sent ones", () => {
    const sent = row(1, "me", "2030-05-10T10:00:00");
    const pending: Row = {
      kind: "outbox",
      item: {
        id: "x",
        roomId: "r",
        text: "y",
        state: "queued",
        afterSeq: 1,
        createdAt: new Date("2030-05-10T10:00:30").toISOString(),
        attempts: 0,
      },
    };
    expect(rowMeta(pending, sent, o).grouped).toBe(true);
  });
});
