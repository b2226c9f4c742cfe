import type { UserRef } from "../chat/message.ts";

/**
 * Presence, split as Centrifuge splits it: messaging nodes report who watches which room
 * (PresenceReporter); the presence service reads rosters and follows their changes (PresenceView).
 * "Online in a room" = at least one live connection subscribed to the room, on any node.
 */
export interface PresenceReporter {
  /** A connection subscribed to a room. The same user may hold several (tabs); counted per connection. */
  add(roomId: string, user: UserRef, connectionId: string): void;
  /** That subscription ended (unsubscribe, revoke or disconnect). */
  remove(roomId: string, userId: string, connectionId: string): void;
  /** Start heart-beating this node so its users are dropped if it dies. */
  start(): Promise<void>;
  /** Removes everything this node reported, then stops. */
  stop(): Promise<void>;
}

export interface RosterSnapshot {
  type: "snapshot";
  roomId: string;
  version: number;
  online: UserRef[];
}

export interface RosterDiff {
  type: "diff";
  roomId: string;
  version: number;
  joined: UserRef[];
  left: UserRef[];
}

export interface PresenceView {
  /** Current roster and its version; diffs with version > snapshot.version follow. */
  snapshot(roomId: string): Promise<RosterSnapshot>;
  /** Every diff of the room, in version order, each version once. */
  watch(roomId: string, handler: (diff: RosterDiff) => void): Promise<() => Promise<void>>;
  /** False while the backing store is unreachable (degraded). */
  readonly healthy: boolean;
  close(): Promise<void>;
}
