import type { Room } from "../store/types.ts";
import type { ControlEvent, RemovalReason } from "./control.ts";
import type { ChatMessage } from "./message.ts";
import { type MyRoom, UNREAD_COUNT_CAP } from "./rooms.ts";
import { unreadFor } from "./unread.ts";

/**
 * The MESSAGE bodies on `/user/queue/events`: a user's live room list. `rooms` comes first on every
 * subscription; then changes, as they happen, on every connection of the user that subscribed.
 */
export type UserEvent =
  /** The whole list, as GET /api/rooms gives it. */
  | { type: "rooms"; rooms: MyRoom[] }
  /** The user joined a room (on any device: a join, an accepted invite, a DM opened again). */
  | { type: "joined"; room: MyRoom }
  /** A new DM with the user (also for the one who opened it). */
  | { type: "dm"; room: MyRoom }
  /** The user is out: they left, or the owner removed or banned them. */
  | { type: "left"; roomId: string; reason: RemovalReason }
  /** The room is gone. */
  | { type: "deleted"; roomId: string }
  /** The owner changed it: name, description, cap, privacy, owner. */
  | { type: "updated"; room: Room }
  /** Messages arrived (or were read): coalesced, at most one per room about every second and a half. */
  | { type: "unread"; roomId: string; unreadCount: number; unreadCountCapped: boolean; lastSeq: number };

/** A room's unread count is sent once it has been still this long, so reading it meanwhile shows no blip. */
export const UNREAD_SETTLE_MS = 1_500;

/**
 * One user's room list as one node follows it for that user's connections: loaded once from the
 * stores, then kept current from control events, room messages and the user's saved read positions,
 * with unread counts kept by counting (no query per message).
 */
export class UserFeed {
  private readonly rooms = new Map<string, MyRoom>();
  /** Rooms whose unread count changed, and since when. */
  private readonly changed = new Map<string, number>();
  /** The unread count each room last had in an event. */
  private readonly told = new Map<string, number>();

  constructor(
    readonly userId: string,
    rooms: readonly MyRoom[],
  ) {
    for (const r of rooms) {
      this.rooms.set(r.id, { ...r });
      this.told.set(r.id, r.unreadCount);
    }
  }

  roomIds(): string[] {
    return [...this.rooms.keys()];
  }

  has(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  snapshot(): UserEvent {
    return { type: "rooms", rooms: [...this.rooms.values()].map((r) => ({ ...r })) };
  }

  /**
   * A control event: the events it means for this user (none when it is not about them or their rooms).
   * `latestSeq`: the room's latest seq as the node knows it, where a room enters the list.
   */
  onControl(e: ControlEvent, latestSeq: (roomId: string) => number): UserEvent[] {
    switch (e.type) {
      case "member-joined": {
        if (e.userId !== this.userId) return [];
        return [{ type: "joined", room: this.enter(e.room, latestSeq(e.roomId)) }];
      }
      case "dm-opened": {
        const peer = e.users.find((u) => u.id !== this.userId);
        if (!peer || !e.users.some((u) => u.id === this.userId)) return [];
        return [{ type: "dm", room: this.enter(e.room, latestSeq(e.roomId), peer) }];
      }
      case "member-removed":
        if (e.userId !== this.userId || !this.leave(e.roomId)) return [];
        return [{ type: "left", roomId: e.roomId, reason: e.reason }];
      case "room-deleted":
        return this.leave(e.roomId) ? [{ type: "deleted", roomId: e.roomId }] : [];
      case "room-updated": {
        const mine = this.rooms.get(e.roomId);
        if (!mine) return [];
        Object.assign(mine, e.room);
        return [{ type: "updated", room: e.room }];
      }
      case "sessions-revoked":
        return [];
    }
  }

  /**
   * A line of one of the user's rooms: a chat message by someone else after what they have read counts
   * as unread, up to UNREAD_COUNT_CAP — the rule GET /api/rooms counts by (unreadFor): not join, leave
   * or update lines, edits or deletes, nor the user's own messages. (A message deleted after it was
   * counted here stays counted until the count is taken from the history again: at the next read.)
   */
  onMessage(m: ChatMessage, now: number): void {
    const room = this.rooms.get(m.roomId);
    if (!room || m.seq <= room.lastSeq) return;
    room.lastSeq = m.seq;
    if (m.seq > room.readPosition && unreadFor(m, this.userId) && room.unreadCount < UNREAD_COUNT_CAP) {
      this.setUnread(room, room.unreadCount + 1);
      this.mark(m.roomId, now);
    }
  }

  /**
   * The user's read position in a room was saved. True when the unread count must be counted again
   * from the history (they read part of it); otherwise it is known (all read: 0).
   */
  onRead(roomId: string, seq: number, now: number): boolean {
    const room = this.rooms.get(roomId);
    if (!room || seq <= room.readPosition) return false;
    room.readPosition = seq;
    if (seq >= room.lastSeq) {
      if (room.unreadCount !== 0) {
        this.setUnread(room, 0);
        this.mark(roomId, now);
      }
      return false;
    }
    return true;
  }

  /** Where a count from the history must start, and what it must match to still be true when it ends. */
  countFrom(roomId: string): { readPosition: number; lastSeq: number } | undefined {
    const room = this.rooms.get(roomId);
    return room && { readPosition: room.readPosition, lastSeq: room.lastSeq };
  }

  /**
   * The result of counting again from `at`. True when reads or messages overtook it (the count may be
   * off by those): count again.
   */
  counted(
    roomId: string,
    at: { readPosition: number; lastSeq: number },
    unread: number,
    now: number,
  ): boolean {
    const room = this.rooms.get(roomId);
    if (!room) return false;
    if (room.readPosition !== at.readPosition || room.lastSeq !== at.lastSeq) return true;
    if (room.unreadCount !== unread) {
      this.setUnread(room, unread);
      this.mark(roomId, now);
    }
    return false;
  }

  /** Unread counts that have settled and differ from what the user was last told. */
  flush(now: number): UserEvent[] {
    const out: UserEvent[] = [];
    for (const [roomId, since] of this.changed) {
      if (now - since < UNREAD_SETTLE_MS) continue;
      this.changed.delete(roomId);
      const room = this.rooms.get(roomId);
      if (!room || this.told.get(roomId) === room.unreadCount) continue;
      this.told.set(roomId, room.unreadCount);
      out.push({
        type: "unread",
        roomId,
        unreadCount: room.unreadCount,
        unreadCountCapped: room.unreadCountCapped,
        lastSeq: room.lastSeq,
      });
    }
    return out;
  }

  private enter(room: Room, lastSeq: number, peer?: MyRoom["peer"]): MyRoom {
    const mine: MyRoom = {
      ...room,
      readPosition: lastSeq,
      unreadCount: 0,
      unreadCountCapped: false,
      lastSeq,
      ...(peer ? { peer } : {}),
    };
    this.rooms.set(room.id, mine);
    this.told.set(room.id, 0);
    return { ...mine };
  }

  private leave(roomId: string): boolean {
    this.changed.delete(roomId);
    this.told.delete(roomId);
    return this.rooms.delete(roomId);
  }

  private setUnread(room: MyRoom, n: number): void {
    room.unreadCount = n;
    room.unreadCountCapped = n >= UNREAD_COUNT_CAP;
  }

  private mark(roomId: string, now: number): void {
    if (!this.changed.has(roomId)) this.changed.set(roomId, now);
  }
}
