import type { UserRef } from "../chat/message.ts";

/** One (room, user, connection) a node reports. */
export interface LocalEntry {
  roomId: string;
  user: UserRef;
  connectionId: string;
}

/**
 * What one node currently reports, nested per (room, connection): a connection that subscribes twice
 * to the same room stays counted until both subscriptions end. The reporters rebuild the shared roster
 * from this after the store comes back, so nothing has to be queued while it is away.
 */
export class LocalSubscriptions {
  private readonly entries = new Map<string, { entry: LocalEntry; refs: number }>();

  /** True when the entry is new (the store must hear of it). */
  add(roomId: string, user: UserRef, connectionId: string): boolean {
    const key = entryKey(roomId, user.id, connectionId);
    const found = this.entries.get(key);
    if (found) {
      found.refs++;
      return false;
    }
    this.entries.set(key, {
      entry: { roomId, user: { id: user.id, username: user.username }, connectionId },
      refs: 1,
    });
    return true;
  }

  /** The entry when its last reference went (the store must hear of it), else undefined. */
  remove(roomId: string, userId: string, connectionId: string): LocalEntry | undefined {
    const key = entryKey(roomId, userId, connectionId);
    const found = this.entries.get(key);
    if (!found) return undefined;
    if (--found.refs > 0) return undefined;
    this.entries.delete(key);
    return found.entry;
  }

  all(): LocalEntry[] {
    return [...this.entries.values()].map((e) => e.entry);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Unambiguous whatever the ids contain; also the member stored in Redis for the node's record. */
export function entryKey(roomId: string, userId: string, connectionId: string): string {
  return JSON.stringify([roomId, userId, connectionId]);
}
