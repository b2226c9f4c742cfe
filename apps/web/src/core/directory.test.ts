import { describe, expect, test } from "bun:test";
import type { MyRoom, Room } from "./api.ts";
import { Directory, fromServer, roomTitle } from "./directory.ts";

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
    d.opened("a");
    d.set([mine("a", "2030-01-02", 4), mine("b", "2030-01-01", 2)], [room("c", "2030-01-03")]);
    // Opening a room reads its count first (for the divider), then marks it read.
    expect(d.find("a")!.unreadCount).toBe(4);
    d.read("a");
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
    expect(d.find("a")!.unreadCount).toBe(0);
    d.opened(null);
    d.apply({ type: "unread", roomId: "a", unreadCount: 7 });
    d.apply({ type: "room-updated", room: { ...room("a", "2030-01-02"), name: "renamed" } });
    expect(d.state.get().mine[0]).toMatchObject({ name: "renamed", unreadCount: 7 });
  });

  test("the live room list: its first message replaces the list, a fetch no longer overrides it, events keep it", () => {
    const d = new Directory();
    d.set([mine("a", "2030-01-02", 4)], [room("c", "2030-01-03"), room("p", "2030-01-04")]);
    d.setLive([mine("b", "2030-01-01", 1), mine("c", "2030-01-03")]);
    expect(d.state.get().mine.map((r) => r.id)).toEqual(["c", "b"]);
    expect(d.state.get().discover.map((r) => r.id)).toEqual(["p"]);
    // A slower fetch answered with an old list: Discover is taken, the live list stays.
    d.set([mine("a", "2030-01-02", 4)], [room("p", "2030-01-04"), room("c", "2030-01-03")]);
    expect(d.state.get().mine.map((r) => r.id)).toEqual(["c", "b"]);
    expect(d.state.get().discover.map((r) => r.id)).toEqual(["p"]);

    const dm: MyRoom = {
      ...mine("d", "2030-01-05"),
      kind: "dm",
      private: true,
      name: "",
      peer: { id: "u", username: "joon" },
    };
    for (const ev of [
      { type: "dm", room: dm },
      { type: "unread", roomId: "b", unreadCount: 3, lastSeq: 9 },
      { type: "updated", room: { ...room("c", "2030-01-03"), name: "renamed", private: true } },
      { type: "left", roomId: "c", reason: "removed" },
    ] as const) {
      d.apply(fromServer(ev)!);
    }
    const s = d.state.get();
    expect(s.mine.map((r) => [roomTitle(r), r.unreadCount])).toEqual([
      ["joon", 0],
      ["b", 3],
    ]);
    // A private room one was removed from does not turn up in Discover.
    expect(s.discover.map((r) => r.id)).toEqual(["p"]);
    expect(fromServer({ type: "rooms", rooms: [] })).toBeNull();
  });
});
