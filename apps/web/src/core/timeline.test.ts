import { describe, expect, test } from "bun:test";
import type { ChatMessage } from "./api.ts";
import { FIRST_INDEX, Timeline } from "./timeline.ts";

const msg = (seq: number, sender = "other"): ChatMessage => ({
  id: `m${seq}`,
  roomId: "r",
  seq,
  type: "message",
  sender: { id: sender, username: sender },
  text: `t${seq}`,
  sentAt: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));

describe("timeline", () => {
  test("the divider goes before the first message after the read position, never before a live one", () => {
    const t = new Timeline("r", 10, 5, "me");
    t.setInitial([...range(1, 10), ...range(11, 15)], true);
    expect(t.state.get().dividerSeq).toBe(11);
    t.add(msg(16), false);
    expect(t.state.get().dividerSeq).toBe(11);
  });

  test("the divider skips what the unread count skips: join lines, one's own and deleted messages", () => {
    const t = new Timeline("r", 10, 1, "me");
    const joined: ChatMessage = { ...msg(11, "sora"), type: "join", text: "" };
    const deleted: ChatMessage = { ...msg(13), text: "", deletedAt: msg(13).sentAt };
    t.setInitial([...range(1, 10), joined, msg(12, "me"), deleted, msg(14, "mina")], true);
    expect(t.state.get().dividerSeq).toBe(14);
  });

  test("nothing unread at open: no divider, even as live messages arrive", () => {
    const t = new Timeline("r", 10, 0, "me");
    t.setInitial(range(1, 10), true);
    t.add(msg(11), false);
    expect(t.state.get().dividerSeq).toBeNull();
  });

  test("unread messages that arrive by replay place the divider; live ones after them do not move it", () => {
    const t = new Timeline("r", 10, 3, "me");
    t.setInitial(range(1, 10), false);
    t.add(msg(11), true);
    t.add(msg(12), false);
    expect(t.state.get().dividerSeq).toBe(11);
  });

  test("more unread than loaded: the divider appears once paging reaches the read position", () => {
    const t = new Timeline("r", 100, 500, "me");
    t.setInitial(range(551, 600), true);
    expect(t.state.get().dividerSeq).toBeNull();
    t.prepend(range(501, 550), true);
    expect(t.state.get().dividerSeq).toBeNull();
    t.prepend(range(51, 500), true);
    expect(t.state.get().dividerSeq).toBe(101);
  });

  test("older pages: the oldest loaded message is held back as context; the first index drops by the rows shown", () => {
    const t = new Timeline("r", 0, 0, "me");
    t.setInitial(range(51, 100), true);
    let s = t.state.get();
    expect(s.hidden).toBe(1);
    expect(s.firstItemIndex).toBe(FIRST_INDEX);
    // 50 new messages: the held-back one and 49 of them become shown, one new one is held back.
    t.prepend(range(1, 50), true);
    s = t.state.get();
    expect(s.messages).toHaveLength(100);
    expect(s.hidden).toBe(1);
    expect(s.firstItemIndex).toBe(FIRST_INDEX - 50);
    // The start of the history: nothing held back any more.
    t.prepend([], false);
    s = t.state.get();
    expect(s.hidden).toBe(0);
    expect(s.firstItemIndex).toBe(FIRST_INDEX - 51);
    expect(t.minSeq).toBe(1);
  });

  test("each seq once, whatever the order of arrival", () => {
    const t = new Timeline("r", 0, 0, "me");
    t.setInitial(range(1, 5), false);
    expect(t.add(msg(5), true)).toBe(false);
    expect(t.add(msg(7), false)).toBe(true);
    expect(t.add(msg(6), false)).toBe(true);
    t.prepend(range(1, 3), false);
    expect(t.state.get().messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(t.maxSeq).toBe(7);
  });
});

const line = (seq: number, type: "edit" | "delete", target: number, text = ""): ChatMessage => ({
  ...msg(seq, "me"),
  id: `l${seq}`,
  type,
  text,
  target: { id: `m${target}`, seq: target },
});

describe("edits and deletes", () => {
  test("live lines change their target in place and are not shown; later edits of a deleted message change nothing", () => {
    const t = new Timeline("r", 0, 0, "me");
    t.setInitial([msg(1, "me"), msg(2, "me")], false);
    t.add(line(3, "edit", 1, "fixed"), false);
    t.add(line(4, "delete", 2), false);
    t.add(line(5, "edit", 2, "too late"), false);
    const [first, second] = t.state.get().messages;
    expect(t.state.get().messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(first).toMatchObject({ text: "fixed", editedAt: line(3, "edit", 1).sentAt });
    expect(second).toMatchObject({ text: "", deletedAt: line(4, "delete", 2).sentAt });
    expect(second!.editedAt).toBeUndefined();
    // The stream continues after the last line received, shown or not.
    expect(t.maxSeq).toBe(5);
  });

  test("a replay or a page with the lines among the messages ends in the same view as live delivery", () => {
    const t = new Timeline("r", 0, 0, "me");
    t.setInitial([msg(1, "me"), msg(2, "me"), line(3, "edit", 1, "fixed"), line(4, "delete", 2)], false);
    expect(t.state.get().messages.map((m) => [m.seq, m.text, !!m.deletedAt])).toEqual([
      [1, "fixed", false],
      [2, "", true],
    ]);
    // Applying a line again (a duplicate in a replay) changes nothing.
    const before = t.state.get();
    expect(t.add(line(3, "edit", 1, "fixed"), true)).toBe(false);
    expect(t.state.get()).toBe(before);
  });

  test("a page of nothing but edit lines still moves paging back", () => {
    const t = new Timeline("r", 0, 0, "me");
    t.setInitial([msg(60), ...Array.from({ length: 10 }, (_, i) => line(61 + i, "edit", 60, `v${i}`))], true);
    t.prepend(
      Array.from({ length: 10 }, (_, i) => line(40 + i, "edit", 30, "x")),
      true,
    );
    expect(t.minSeq).toBe(40);
    expect(t.state.get().messages.map((m) => m.text)).toEqual(["v9"]);
  });
});
