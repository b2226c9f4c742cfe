import { expect, test } from "bun:test";
import type { Room } from "../store/types.ts";
import { type ChatMessageType, newDraft } from "./message.ts";
import { type MyRoom, UNREAD_COUNT_CAP } from "./rooms.ts";
import { UNREAD_SETTLE_MS, UserFeed } from "./user-events.ts";

const room = (id: string): Room => ({
  id,
  name: id,
  description: "",
  kind: "group",
  private: false,
  ownerId: "o",
  maxMembers: 10,
  memberCount: 2,
  createdAt: "2026-01-01T00:00:00.000Z",
});
const mine = (id: string, extra: Partial<MyRoom> = {}): MyRoom => ({
  ...room(id),
  readPosition: 10,
  unreadCount: 0,
  unreadCountCapped: false,
  lastSeq: 10,
  ...extra,
});
const msg = (roomId: string, seq: number, from = "other", type: ChatMessageType = "message") => ({
  ...newDraft(roomId, type, { id: from, username: from }, "x"),
  seq,
});

test("others' chat messages after the read position count once settled, as GET /api/rooms counts; a changed count is told once", () => {
  const feed = new UserFeed("me", [mine("r")]);
  feed.onMessage(msg("r", 9), 0); // before the read position
  feed.onMessage(msg("r", 11), 0);
  feed.onMessage(msg("r", 12, "me"), 0); // their own
  feed.onMessage(msg("r", 13, "other", "join"), 0); // not a message: join, leave, update, edit, delete
  feed.onMessage(msg("r", 14, "other", "leave"), 0);
  feed.onMessage(msg("r", 15, "o", "update"), 0);
  feed.onMessage(msg("r", 16, "other", "edit"), 0);
  feed.onMessage(msg("r", 17, "other", "delete"), 0);
  feed.onMessage(msg("r", 18), 100);
  feed.onMessage(msg("r", 18), 100); // the same again: counted once
  expect(feed.flush(UNREAD_SETTLE_MS - 1)).toEqual([]);
  expect(feed.flush(UNREAD_SETTLE_MS)).toEqual([
    { type: "unread", roomId: "r", unreadCount: 2, unreadCountCapped: false, lastSeq: 18 },
  ]);
  expect(feed.flush(UNREAD_SETTLE_MS * 3)).toEqual([]);
});

test("the count stops at the cap, and says so", () => {
  const feed = new UserFeed("me", [mine("r", { unreadCount: UNREAD_COUNT_CAP - 1 })]);
  feed.onMessage(msg("r", 11), 0);
  feed.onMessage(msg("r", 12), 0);
  expect(feed.flush(UNREAD_SETTLE_MS)).toEqual([
    { type: "unread", roomId: "r", unreadCount: UNREAD_COUNT_CAP, unreadCountCapped: true, lastSeq: 12 },
  ]);
});

test("reading to the end clears the count without a query; reading part of it asks for a count", () => {
  const feed = new UserFeed("me", [mine("r", { unreadCount: 3, lastSeq: 13 })]);
  expect(feed.onRead("r", 12, 0)).toBe(true);
  const at = feed.countFrom("r")!;
  expect(at).toEqual({ readPosition: 12, lastSeq: 13 });
  expect(feed.counted("r", at, 1, 0)).toBe(false);
  expect(feed.flush(UNREAD_SETTLE_MS)).toEqual([
    { type: "unread", roomId: "r", unreadCount: 1, unreadCountCapped: false, lastSeq: 13 },
  ]);
  // A count overtaken by a new message is counted again.
  const stale = feed.countFrom("r")!;
  feed.onMessage(msg("r", 20), 0);
  expect(feed.counted("r", stale, 1, 0)).toBe(true);
  expect(feed.onRead("r", 20, 10)).toBe(false);
  expect(feed.flush(10 + UNREAD_SETTLE_MS)).toEqual([
    { type: "unread", roomId: "r", unreadCount: 0, unreadCountCapped: false, lastSeq: 20 },
  ]);
  // Read, then a message and a read at once within the window: no event at all (nothing to tell).
  feed.onMessage(msg("r", 21), 5000);
  feed.onRead("r", 21, 5100);
  expect(feed.flush(5000 + UNREAD_SETTLE_MS)).toEqual([]);
});

test("control events: only the user's own joins and removals, and their rooms' changes", () => {
  const feed = new UserFeed("me", [mine("r")]);
  const latest = () => 42;
  expect(
    feed.onControl({ type: "member-joined", roomId: "x", userId: "someone", room: room("x") }, latest),
  ).toEqual([]);
  const joined = feed.onControl(
    { type: "member-joined", roomId: "n", userId: "me", room: room("n") },
    latest,
  );
  expect(joined).toEqual([
    {
      type: "joined",
      room: { ...room("n"), readPosition: 42, unreadCount: 0, unreadCountCapped: false, lastSeq: 42 },
    },
  ]);
  expect(feed.onControl({ type: "room-updated", roomId: "zz", room: room("zz") }, latest)).toEqual([]);
  expect(
    feed.onControl({ type: "room-updated", roomId: "n", room: { ...room("n"), name: "N" } }, latest),
  ).toMatchObject([{ type: "updated", room: { name: "N" } }]);
  expect(
    feed.onControl({ type: "member-removed", roomId: "n", userId: "me", reason: "banned" }, latest),
  ).toEqual([{ type: "left", roomId: "n", reason: "banned" }]);
  expect(feed.onControl({ type: "room-deleted", roomId: "n" }, latest)).toEqual([]);
  const users: [{ id: string; username: string }, { id: string; username: string }] = [
    { id: "me", username: "me" },
    { id: "p", username: "pal" },
  ];
  const dm = feed.onControl(
    { type: "dm-opened", roomId: "d", room: { ...room("d"), kind: "dm" }, users },
    latest,
  );
  expect(dm).toMatchObject([{ type: "dm", room: { id: "d", peer: { id: "p", username: "pal" } } }]);
  expect(feed.onControl({ type: "room-deleted", roomId: "d" }, latest)).toEqual([
    { type: "deleted", roomId: "d" },
  ]);
  expect(feed.roomIds()).toEqual(["r"]);
});
