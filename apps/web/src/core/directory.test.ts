import { describe, expect, test } from "bun:test";
import type { MyRoom, Room } from "./api.ts";
import { Directory } from "./directory.ts";

const room = (id: string, createdAt: string, memberCount = 2): Room => ({
  id,
  name: id,
  description: "",
  kind: "group",
  private: false,
  ownerId: "o",
  maxMembers: 10,
  memberCount,
  createdAt,
});
const mine = (id: string, createdAt: string, unreadCount = 0): MyRoom => ({
  ...room(id, createdAt),
  readPosition: 0,
  unreadCount,
});

describe("room directory", () => {
  test("the open room shows no unread badge; events keep both lists in step", () => {
    const d = new Directory();
    d.set([mine("a", "2030-01-02", 4), mine("b", "2030-01-01", 2)], [room("c", "2030-01-03")], "a");
    expect(d.state.get().mine.map((r) => [r.id, r.unreadCount])).toEqual([
      ["a", 0],
      ["b", 2],
    ]);

    d.apply({ type: "room-joined", room: mine("c", "2030-01-03") });
    expect(d.state.get().mine.map((r) => r.id)).toEqual(["c", "a", "b"]);
    expect(d.state.get().discover).toEqual([]);

    // Leaving a room others are still in puts it back in Discover with one member fewer.
    d.apply({ type: "room-left", roomId: "b" });
    expect(d.state.get().mine.map((r) => r.id)).toEqual(["c", "a"]);
    expect(d.state.get().discover.map((r) => [r.id, r.memberCount])).toEqual([["b", 1]]);

    d.apply({ type: "room-deleted", roomId: "b" });
    d.apply({ type: "room-deleted", roomId: "c" });
    expect(d.state.get().mine.map((r) => r.id)).toEqual(["a"]);
    expect(d.state.get().discover).toEqual([]);

    d.apply({ type: "unread", roomId: "a", unreadCount: 7 });
    d.apply({ type: "room-updated", room: { ...room("a", "2030-01-02"), name: "renamed" } });
    expect(d.state.get().mine[0]).toMatchObject({ name: "renamed", unreadCount: 7 });
  });
});
