import { describe, expect, test } from "bun:test";
import { RoomSignals, seenBy, TYPING_REPEAT_MS, TypingSender, typingText } from "./signals.ts";

const u = (name: string) => ({ id: name, username: name });

describe("room signals", () => {
  test("typing: others only, in words, with the count beyond the names", () => {
    const s = new RoomSignals("me");
    s.onTyping({ type: "typing", typing: [u("mina"), u("me")], count: 2 });
    expect(typingText(s.typing.get())).toBe("mina is typing…");
    s.onTyping({ type: "typing", typing: [u("mina"), u("joon")], count: 2 });
    expect(typingText(s.typing.get())).toBe("mina and joon are typing…");
    s.onTyping({ type: "typing", typing: [u("a"), u("b"), u("c")], count: 3 });
    expect(typingText(s.typing.get())).toBe("a, b and c are typing…");
    s.onTyping({ type: "typing", typing: ["a", "b", "c", "d", "e"].map(u), count: 7 });
    expect(typingText(s.typing.get())).toBe("a, b and 5 others are typing…");
    s.onTyping({ type: "typing", typing: [u("me")], count: 1 });
    expect(typingText(s.typing.get())).toBe("");
  });

  test("read positions only move forward; seen by everyone but me and the sender", () => {
    const s = new RoomSignals("me");
    s.onReceipts({
      type: "receipts",
      positions: [
        { userId: "mina", seq: 5 },
        { userId: "joon", seq: 9 },
      ],
    });
    s.onReceipts({ type: "receipts", positions: [{ userId: "joon", seq: 7 }] });
    const members = [u("me"), u("mina"), u("joon")];
    expect(seenBy(7, s.read.get(), members, "me", "me")).toEqual(["joon"]);
    expect(seenBy(5, s.read.get(), members, "me", "mina")).toEqual(["joon"]);
    expect(seenBy(10, s.read.get(), members, "me", "me")).toEqual([]);
  });

  test("typing is said on the first keystroke, repeated every 3 s while typing, and ended once", () => {
    let now = 1_000;
    const sent: boolean[] = [];
    const t = new TypingSender(
      (v) => sent.push(v) > 0,
      () => now,
    );
    t.input(false);
    now += 1_000;
    t.input(false);
    expect(sent).toEqual([true]);
    now += TYPING_REPEAT_MS;
    t.input(false);
    expect(sent).toEqual([true, true]);
    t.input(true);
    t.stop();
    expect(sent).toEqual([true, true, false]);
    // Sending the message ends it on the server: no "false" of our own.
    t.input(false);
    t.sent();
    t.stop();
    expect(sent).toEqual([true, true, false, true]);
  });
});
