import type { UserRef } from "../chat/message.ts";
import { errorFields, type Logger } from "../log/index.ts";
import { RosterFeed } from "./feed.ts";
import { LocalSubscriptions } from "./local.ts";
import type { PresenceReporter, PresenceTuning, PresenceView, RosterDiff, RosterHandler } from "./types.ts";

interface RoomCounts {
  /** userId → the user and how many connections hold them in the room. */
  users: Map<string, { user: UserRef; connections: number }>;
  /** Users whose state may have changed since the last diff. */
  pending: Set<string>;
  timer: ReturnType<typeof setTimeout> | undefined;
  feed: RosterFeed;
}

/**
 * Presence for the one-process default: reporter and view in one object, with the client-visible
 * behaviour of the Redis adapter — a snapshot, then versioned diffs, changes coalesced per room for
 * `coalesceMs` after the first one. Nodes cannot die separately here, so there is no heart-beat.
 */
export class MemoryPresence implements PresenceReporter, PresenceView {
  readonly healthy = true;
  private readonly own = this.reporter();
  private readonly rooms = new Map<string, RoomCounts>();
  private readonly coalesceMs: number;

  constructor(
    private readonly log: Logger,
    tuning: PresenceTuning = {},
  ) {
    this.coalesceMs = tuning.coalesceMs ?? 200;
  }

  /** Reports of this process's own node. */
  add(roomId: string, user: UserRef, connectionId: string): void {
    this.own.add(roomId, user, connectionId);
  }

  remove(roomId: string, userId: string, connectionId: string): void {
    this.own.remove(roomId, userId, connectionId);
  }

  async start(): Promise<void> {}

  /** Removes everything this process's node reported; watchers see those users leave. */
  async stop(): Promise<void> {
    await this.own.stop();
  }

  /** Another reporting node on the same rosters, with its own record (several nodes in one process). */
  reporter(): PresenceReporter {
    return new MemoryReporter(
      (roomId, user) => this.enter(roomId, user),
      (roomId, userId) => this.exit(roomId, userId),
    );
  }

  async watch(roomId: string, handler: RosterHandler): Promise<() => void> {
    const room = this.room(roomId);
    room.feed.add(handler);
    return () => {
      room.feed.remove(handler);
      this.dropIfIdle(roomId, room);
    };
  }

  async close(): Promise<void> {
    for (const room of this.rooms.values()) if (room.timer) clearTimeout(room.timer);
    this.rooms.clear();
  }

  private room(roomId: string): RoomCounts {
    let room = this.rooms.get(roomId);
    if (!room) {
      const feed = new RosterFeed(roomId, (err) =>
        this.log("error", "presence watcher failed", errorFields(err)),
      );
      feed.load({ type: "snapshot", roomId, version: 0, online: [] });
      room = { users: new Map(), pending: new Set(), timer: undefined, feed };
      this.rooms.set(roomId, room);
    }
    return room;
  }

  private enter(roomId: string, user: UserRef): void {
    const room = this.room(roomId);
    const found = room.users.get(user.id);
    if (found) found.connections++;
    else room.users.set(user.id, { user: { id: user.id, username: user.username }, connections: 1 });
    if (!found) this.changed(room, user.id);
  }

  /** One connection fewer for the user in the room. */
  private exit(roomId: string, userId: string): void {
    const room = this.rooms.get(roomId);
    const found = room?.users.get(userId);
    if (!room || !found) return;
    if (--found.connections > 0) return;
    room.users.delete(userId);
    this.changed(room, userId);
  }

  private changed(room: RoomCounts, userId: string): void {
    room.pending.add(userId);
    room.timer ??= setTimeout(() => this.flush(room), this.coalesceMs);
  }

  /** One diff for everything that changed in the window; nothing when it all cancelled out. */
  private flush(room: RoomCounts): void {
    room.timer = undefined;
    const { feed } = room;
    const joined: UserRef[] = [];
    const left: UserRef[] = [];
    for (const userId of room.pending) {
      const now = room.users.get(userId);
      const before = feed.onlineUser(userId);
      if (now && !before) joined.push(now.user);
      else if (!now && before) left.push(before);
    }
    room.pending.clear();
    if (joined.length > 0 || left.length > 0) {
      const diff: RosterDiff = { type: "diff", roomId: feed.roomId, version: feed.version + 1, joined, left };
      feed.diff(diff);
    }
    this.dropIfIdle(feed.roomId, room);
  }

  /** A room nobody is in or watches is forgotten; its versions start again from 0. */
  private dropIfIdle(roomId: string, room: RoomCounts): void {
    if (room.users.size === 0 && room.feed.watcherCount === 0 && !room.timer) this.rooms.delete(roomId);
  }
}

/** One node's reports: its own record, so stopping it removes only what it added. */
class MemoryReporter implements PresenceReporter {
  private readonly local = new LocalSubscriptions();

  constructor(
    private readonly enter: (roomId: string, user: UserRef) => void,
    private readonly exit: (roomId: string, userId: string) => void,
  ) {}

  add(roomId: string, user: UserRef, connectionId: string): void {
    if (this.local.add(roomId, user, connectionId)) this.enter(roomId, user);
  }

  remove(roomId: string, userId: string, connectionId: string): void {
    if (this.local.remove(roomId, userId, connectionId)) this.exit(roomId, userId);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    const entries = this.local.all();
    this.local.clear();
    for (const e of entries) this.exit(e.roomId, e.user.id);
  }
}
