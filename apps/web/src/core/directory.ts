import type { MyRoom, Room } from "./api.ts";
import { Store } from "./store.ts";

/**
 * Changes to the rooms a user has. Today they come from this tab's own actions and, through a
 * BroadcastChannel, from the user's other tabs; the per-user STOMP destination of the chat-features
 * issue (`/user/queue/events`) will deliver the same events from anywhere, into the same `apply`.
 */
export type RoomEvent =
  | { type: "room-joined"; room: MyRoom }
  | { type: "room-left"; roomId: string }
  | { type: "room-deleted"; roomId: string }
  | { type: "room-updated"; room: Room }
  | { type: "unread"; roomId: string; unreadCount: number };

export interface DirectoryState {
  mine: MyRoom[];
  discover: Room[];
  loaded: boolean;
  error: string | null;
}

const newestFirst = (a: Room, b: Room) => b.createdAt.localeCompare(a.createdAt);

/** The sidebar's data: my rooms with unread counts, and rooms to discover. */
export class Directory {
  readonly state = new Store<DirectoryState>({ mine: [], discover: [], loaded: false, error: null });

  /** Replaces both lists with the server's view (on start, focus, reconnect, and every so often). */
  set(mine: MyRoom[], discover: Room[], openRoomId: string | null): void {
    this.state.set({
      mine: mine.map((r) => (r.id === openRoomId ? { ...r, unreadCount: 0 } : r)),
      discover,
      loaded: true,
      error: null,
    });
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
            ev.type === "room-left" && left && left.memberCount > 1
              ? [{ ...left, memberCount: left.memberCount - 1 }, ...s.discover].sort(newestFirst)
              : s.discover.filter((r) => r.id !== ev.roomId);
          return { ...s, mine: s.mine.filter((r) => r.id !== ev.roomId), discover };
        }
        case "room-updated":
          return {
            ...s,
            mine: s.mine.map((r) => (r.id === ev.room.id ? { ...r, ...ev.room } : r)),
            discover: s.discover.map((r) => (r.id === ev.room.id ? ev.room : r)),
          };
        case "unread":
          return {
            ...s,
            mine: s.mine.map((r) => (r.id === ev.roomId ? { ...r, unreadCount: ev.unreadCount } : r)),
          };
      }
    });
  }
}
