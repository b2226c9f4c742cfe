import type { MyRoom, Room } from "./api.ts";
import { Store } from "./store.ts";

/**
 * Changes to the rooms a user has: from this tab's own actions, from the user's other tabs (a
 * BroadcastChannel), and from the server's live room list (`/user/queue/events`, see `fromServer`).
 */
export type RoomEvent =
  | { type: "room-joined"; room: MyRoom }
  | { type: "room-left"; roomId: string; reason?: "left" | "removed" | "banned" }
  | { type: "room-deleted"; roomId: string }
  | { type: "room-updated"; room: Room }
  | { type: "unread"; roomId: string; unreadCount: number };

/** A MESSAGE body of `/user/queue/events` (docs/protocol.md, "Your room list"). */
export type UserEvent =
  | { type: "rooms"; rooms: MyRoom[] }
  | { type: "joined" | "dm"; room: MyRoom }
  | { type: "left"; roomId: string; reason: "left" | "removed" | "banned" }
  | { type: "deleted"; roomId: string }
  | { type: "updated"; room: Room }
  | { type: "unread"; roomId: string; unreadCount: number; lastSeq: number };

/** The room-list change a server event means (null for the whole list, which replaces it). */
export function fromServer(ev: UserEvent): RoomEvent | null {
  switch (ev.type) {
    case "rooms":
      return null;
    case "joined":
    case "dm":
      return { type: "room-joined", room: ev.room };
    case "left":
      return { type: "room-left", roomId: ev.roomId, reason: ev.reason };
    case "deleted":
      return { type: "room-deleted", roomId: ev.roomId };
    case "updated":
      return { type: "room-updated", room: ev.room };
    case "unread":
      return { type: "unread", roomId: ev.roomId, unreadCount: ev.unreadCount };
  }
}

/** How a room is named on screen: a DM by the other person. */
export function roomTitle(room: Pick<MyRoom, "name" | "kind"> & { peer?: MyRoom["peer"] }): string {
  if (room.kind === "dm") return room.peer?.username ?? (room.name || "Direct message");
  return room.name;
}

/** Rooms anyone may find: not private, not a DM. */
const discoverable = (r: Room) => !r.private && r.kind !== "dm";

export interface DirectoryState {
  mine: MyRoom[];
  discover: Room[];
  loaded: boolean;
  /** The server's live room list is subscribed: `mine` follows it, polls refresh only Discover. */
  live: boolean;
  error: string | null;
}

const newestFirst = (a: Room, b: Room) => b.createdAt.localeCompare(a.createdAt);

/** The sidebar's data: my rooms with unread counts, and rooms to discover. */
export class Directory {
  readonly state = new Store<DirectoryState>(Directory.empty());
  /** The room being read on screen: its count stays 0. */
  private openRoomId: string | null = null;

  static empty(): DirectoryState {
    return { mine: [], discover: [], loaded: false, live: false, error: null };
  }

  /**
   * Another room (or none) goes on screen. Its count is left as it is until `read`: opening the room
   * needs it first, to place the "new" divider.
   */
  opened(roomId: string | null): void {
    if (roomId !== this.openRoomId) this.openRoomId = null;
  }

  /** The open room's messages are on screen: nothing in it is unread, now or as they arrive. */
  read(roomId: string): void {
    this.openRoomId = roomId;
    this.state.update((s) =>
      s.mine.some((r) => r.id === roomId && r.unreadCount !== 0)
        ? { ...s, mine: s.mine.map((r) => (r.id === roomId ? { ...r, unreadCount: 0 } : r)) }
        : s,
    );
  }

  /**
   * Replaces both lists with the server's view (on start, focus, reconnect, and every so often).
   * While the live list is subscribed, `mine` is its to keep (a fetch may be older than its events).
   */
  set(mine: MyRoom[] | null, discover: Room[]): void {
    const s = this.state.get();
    const kept = s.live || !mine ? s.mine : this.seen(mine);
    const ids = new Set(kept.map((r) => r.id));
    this.state.set({
      ...s,
      mine: kept,
      discover: discover.filter((r) => !ids.has(r.id)),
      loaded: true,
      error: null,
    });
  }

  /** The live list's first message: the whole list, from now on kept by events. */
  setLive(mine: MyRoom[]): void {
    const ids = new Set(mine.map((r) => r.id));
    this.state.update((s) => ({
      ...s,
      mine: this.seen(mine).sort(newestFirst),
      discover: s.discover.filter((r) => !ids.has(r.id)),
      loaded: true,
      live: true,
      error: null,
    }));
  }

  /** The live list's connection dropped: polls keep `mine` fresh until it is back. */
  notLive(): void {
    this.state.update((s) => (s.live ? { ...s, live: false } : s));
  }

  private seen(mine: MyRoom[]): MyRoom[] {
    return mine.map((r) => (r.id === this.openRoomId ? { ...r, unreadCount: 0 } : r));
  }

  failed(error: string): void {
    this.state.update((s) => ({ ...s, error }));
  }

  find(roomId: string): MyRoom | undefined {
    return this.state.get().mine.find((r) => r.id === roomId);
  }

  apply(ev: RoomEvent): void {
    this.state.update((s) => {
      switch (ev.type) {
        case "room-joined":
          return {
            ...s,
            mine: [ev.room, ...s.mine.filter((r) => r.id !== ev.room.id)].sort(newestFirst),
            discover: s.discover.filter((r) => r.id !== ev.room.id),
          };
        case "room-left":
        case "room-deleted": {
          const left = s.mine.find((r) => r.id === ev.roomId);
          const discover =
            ev.type === "room-left" && left && left.memberCount > 1 && discoverable(left)
              ? [{ ...left, memberCount: left.memberCount - 1 }, ...s.discover].sort(newestFirst)
              : s.discover.filter((r) => r.id !== ev.roomId);
          return { ...s, mine: s.mine.filter((r) => r.id !== ev.roomId), discover };
        }
        case "room-updated":
          return {
            ...s,
            mine: s.mine.map((r) => (r.id === ev.room.id ? { ...r, ...ev.room } : r)),
            discover: s.discover
              .map((r) => (r.id === ev.room.id ? ev.room : r))
              .filter((r) => r.id !== ev.room.id || discoverable(r)),
          };
        case "unread": {
          const unreadCount = ev.roomId === this.openRoomId ? 0 : ev.unreadCount;
          if (!s.mine.some((r) => r.id === ev.roomId && r.unreadCount !== unreadCount)) return s;
          return {
            ...s,
            mine: s.mine.map((r) => (r.id === ev.roomId ? { ...r, unreadCount } : r)),
          };
        }
      }
    });
  }
}
