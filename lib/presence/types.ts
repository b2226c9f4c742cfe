import type { UserRef } from "../chat/message.ts";

/**
 * Presence, split as Centrifuge splits it: messaging nodes report who watches which room
 * (PresenceReporter); the presence service reads rosters and follows their changes (PresenceView).
 * "Online in a room" = at least one live connection subscribed to the room, on any node.
 */
export interface PresenceReporter {
  /**
   * A connection subscribed to a room. The same user may hold several (tabs); counted per connection.
   * Calls for the same (room, connection) nest: the entry lasts until as many removes. Never throws,
   * never waits on the store.
   */
  add(roomId: string, user: UserRef, connectionId: string): void;
  /** That subscription ended (unsubscribe, revoke or disconnect). Never throws. */
  remove(roomId: string, userId: string, connectionId: string): void;
  /** Start heart-beating this node so its users are dropped if it dies. */
  start(): Promise<void>;
  /** Removes everything this node reported, then stops. */
  stop(): Promise<void>;
}

/**
 * The roster a watcher starts from. Every adapter emits versions 1, 2, 3... per room with no gaps;
 * the diff following a snapshot of version N has version N + 1.
 */
export interface RosterSnapshot {
  type: "snapshot";
  roomId: string;
  version: number;
  online: UserRef[];
}

/** What changed between version - 1 and version; a user is never in both lists. */
export interface RosterDiff {
  type: "diff";
  roomId: string;
  version: number;
  joined: UserRef[];
  left: UserRef[];
}

/** The store is unreachable: the roster is unknown until the next snapshot. */
export interface RosterDegraded {
  type: "degraded";
  roomId: string;
}

export type RosterEvent = RosterSnapshot | RosterDiff | RosterDegraded;
export type RosterHandler = (event: RosterEvent) => void;

export interface PresenceView {
  /** Connects and starts its background work (coalescing, sweeping dead nodes, health checks). */
  start(): Promise<void>;
  /**
   * Follows a room. The handler gets a snapshot first, then every diff in version order, each once.
   * If the store becomes unreachable it gets "degraded", then a fresh snapshot once it is back.
   * When the promise resolves the handler has had its snapshot (or "degraded").
   */
  watch(roomId: string, handler: RosterHandler): Promise<() => void>;
  /** False while the backing store is unreachable (degraded). */
  readonly healthy: boolean;
  close(): Promise<void>;
}

/** Tuning shared by the adapters; every field has a default. */
export interface PresenceTuning {
  /** Changes within this window after the first one become one diff (bounded delay). Default 200. */
  coalesceMs?: number;
  /** A node whose heart-beat is this old is dead and its users go offline. Default 10 000. */
  nodeTtlMs?: number;
  /** How often dead nodes are looked for. Default 2 000 (so offline within ttl + 2 s + coalesce). */
  sweepEveryMs?: number;
}
