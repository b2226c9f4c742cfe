import type { Room } from "../store/types.ts";
import type { UserRef } from "./message.ts";

/**
 * Control events: what every node must learn at once about membership, rooms and sessions, beside the
 * rooms' message logs (the bus carries them on their own channel, in order per controlKey: a room's
 * id, or a user's). Each kind says what it takes away from live connections: room kinds that revoke
 * end subscriptions (revocationOf), session kinds end connections (isSessionEvent). The others keep
 * every node's live room lists (/user/queue/events) current.
 */
export type ControlEvent = RoomControlEvent | SessionControlEvent;

export type RoomControlEvent =
  /** The user is no longer a member: they left, were removed or banned, or their account was deleted. */
  | { type: "member-removed"; roomId: string; userId: string; reason: RemovalReason }
  /** The room is gone, with every membership. */
  | { type: "room-deleted"; roomId: string }
  /** The user became a member (joined, accepted an invite, or opened a DM again). */
  | { type: "member-joined"; roomId: string; userId: string; room: Room }
  /** The owner changed the room (name, description, cap, privacy, owner). */
  | { type: "room-updated"; roomId: string; room: Room }
  /** A new DM between two users. */
  | { type: "dm-opened"; roomId: string; room: Room; users: [UserRef, UserRef] };

export type RemovalReason = "left" | "removed" | "banned" | "account-deleted";

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

const removalWhy: Record<RemovalReason, string> = {
  left: "you are no longer a member",
  removed: "you were removed from the room",
  banned: "you were banned from the room",
  "account-deleted": "your account was deleted",
};

/** The revocation a control event carries; undefined for kinds that do not take a room away. */
export function revocationOf(event: ControlEvent): RoomRevocation | undefined {
  switch (event.type) {
    case "member-removed":
      return { roomId: event.roomId, userId: event.userId, why: removalWhy[event.reason] };
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
