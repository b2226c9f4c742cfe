import { expect, test } from "bun:test";
import type { RoomSignal } from "../../signals/types.ts";
import { newDraft } from "../message.ts";
import { TYPING_EXPIRY_MS, typing } from "./typing.ts";

const sig = (n: number, on: boolean): RoomSignal => ({
  kind: "typing",
  roomId: "r",
  userId: `u${n}`,
  username: `user${n}`,
  data: { typing: on },
});

test("who is typing: at most five names, longest typing first, the full count; flushed only when changed", () => {
  const s = typing.newState("r");
  expect(s.flush()).toBeUndefined();
  expect(s.current()).toBeUndefined();
  for (let i = 1; i <= 7; i++) expect(s.apply(sig(i, true), 1000 + i)).toBe(true);
  expect(s.apply(sig(3, true), 2000)).toBe(false); // a refresh changes nothing visible
  const view = s.flush()!;
  expect(view).toEqual({
    type: "typing",
    roomId: "r",
    typing: [1, 2, 3, 4, 5].map((i) => ({ id: `u${i}`, username: `user${i}` })),
    count: 7,
  });
  expect(s.flush()).toBeUndefined();
  expect(s.apply(sig(9, false), 2000)).toBe(false); // stopping without having started
  expect(s.apply(sig(1, false), 2000)).toBe(true);
  expect((s.flush()!.typing as { id: string }[])[0]!.id).toBe("u2");
});

test("a typist expires after the last start; their message ends it at once", () => {
  const s = typing.newState("r");
  s.apply(sig(1, true), 0);
  s.apply(sig(2, true), 0);
  s.apply(sig(1, true), 3000);
  expect(s.tick(TYPING_EXPIRY_MS - 1)).toBe(false);
  expect(s.tick(TYPING_EXPIRY_MS)).toBe(true);
  expect(s.flush()).toMatchObject({ count: 1, typing: [{ id: "u1" }] });
  expect(s.onRoomEvent({ ...newDraft("r", "join", { id: "u1", username: "x" }, "x joined"), seq: 1 })).toBe(
    false,
  );
  expect(s.onRoomEvent({ ...newDraft("r", "message", { id: "u1", username: "x" }, "hi"), seq: 2 })).toBe(
    true,
  );
  expect(s.flush()).toMatchObject({ count: 0, typing: [] });
});

test("clients send exactly {typing: boolean}", () => {
  expect(typing.fromClient!({ typing: true })).toEqual({ typing: true });
  for (const bad of [{}, { typing: "yes" }, { typing: true, extra: 1 }, null, "typing"]) {
    expect(() => typing.fromClient!(bad)).toThrow();
  }
});

test("the fast path's legal bodies read exactly as the schema reads them; every other body goes to the schema", () => {
  const bodies = [
    '{"typing":true}',
    '{"typing":false}',
    '{"typing": true}',
    '{"typing": false}',
    '{ "typing": true }',
    '{"typing":true,"x":1}',
    '{"typing":"true"}',
    '{"typing":1}',
    '{"typing":null}',
    '{"Typing":true}',
    "{}",
    "true",
    "null",
    '"typing"',
    "[true]",
    '{"typing":true}{',
    "",
  ];
  const legal = typing.legalBodies!;
  expect([...legal.keys()].every((b) => bodies.includes(b))).toBe(true);
  for (const b of bodies) {
    let slow: Record<string, unknown> | "refused";
    try {
      slow = typing.fromClient!(JSON.parse(b));
    } catch {
      slow = "refused";
    }
    const fast = legal.get(b);
    if (fast) {
      expect(slow).toEqual(fast.data);
      expect(fast.json).toBe(JSON.stringify(slow));
    } else if (slow !== "refused") {
      // Legal but not in the table: the usual path takes it (only spacing variants are legal so).
      expect(b).toBe('{ "typing": true }');
    }
  }
  expect(Object.isFrozen(legal.get('{"typing":true}')!.data)).toBe(true);
});
