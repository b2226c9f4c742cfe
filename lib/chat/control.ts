/**
 * Control events: what every node must learn at once about membership, rooms and sessions, beside the
 * rooms' message logs (the bus carries them on their own channel, in order per key: a room's id, or a
 * user's). Each kind says what it takes away from live connections: room kinds end subscriptions
 * (revocationOf), session kinds end connections (isSessionEvent).
 */
export type ControlEvent = RoomControlEvent | SessionControlEvent;

export type RoomControlEvent =
  /** The user is no longer a member: they left, or were removed. */
  | { type: "member-removed"; roomId: string; userId: string }
  /** The room is gone, with every membership. */
  | { type: "room-deleted"; roomId: string };

/**
 * Ends a user's live STOMP sessions on every ws-node and presence-node (ERROR, close 4003): those of
 * one refresh-token family (`familyId`: a logout, or a refresh token presented twice), or all of
 * them (no `familyId`: the account was deleted). Nodes also forget their cached session checks, so
 * a reconnect with an access token of that family (or of a deleted user) is refused at CONNECT.
 */
export interface SessionControlEvent {
  type: "sessions-revoked";
  userId: string;
  familyId?: string;
  reason: "logout" | "token-reuse" | "account-deleted";
}

export type ControlEventType = ControlEvent["type"];

/** The event that ends a user's sessions (of one token family, or all when `familyId` is absent). */
export function sessionsRevoked(
  userId: string,
  reason: SessionControlEvent["reason"],
  familyId?: string,
): SessionControlEvent {
  return familyId === undefined
    ? { type: "sessions-revoked", userId, reason }
    : { type: "sessions-revoked", userId, familyId, reason };
}

export const isSessionEvent = (e: ControlEvent): e is SessionControlEvent => e.type === "sessions-revoked";

/** What a control event takes away from live subscriptions to a room, if anything. */
export interface RoomRevocation {
  roomId: string;
  /** Only this user's subscriptions; all of the room's when absent. */
  userId?: string;
  /** As the client is told. */
  why: string;
}

/** The revocation a control event carries; undefined for kinds that do not take a room away. */
export function revocationOf(event: ControlEvent): RoomRevocation | undefined {
  switch (event.type) {
    case "member-removed":
      return { roomId: event.roomId, userId: event.userId, why: "you are no longer a member" };
    case "room-deleted":
      return { roomId: event.roomId, why: "the room was deleted" };
    default:
      return undefined;
  }
}

/** The key that orders control events on the bus: events about one room (or user) keep their order. */
export function controlKey(event: ControlEvent): string {
  return isSessionEvent(event) ? event.userId : event.roomId;
}
