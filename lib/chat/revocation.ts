import type { Principal } from "../stomp/server/app.ts";
import { CloseCode } from "../stomp/server/errors.ts";
import type { RoomRevocation, SessionControlEvent } from "./control.ts";

/** A live subscription of one user, on any STOMP endpoint, that a membership change can end. */
export interface RevocableSubscription {
  readonly session: { revoke(subscriptionId: string, why: string, extra?: Record<string, unknown>): void };
  readonly subscriptionId: string;
  readonly userId: string;
}

/**
 * Ends what a revocation takes away among one room's subscriptions: all of them when the room was
 * deleted, the removed member's otherwise. Used by ws-node (chat) and presence-node (rosters).
 */
export function revokeSubscriptions(
  revocation: RoomRevocation,
  subs: readonly RevocableSubscription[],
): void {
  for (const s of subs) {
    if (revocation.userId !== undefined && s.userId !== revocation.userId) continue;
    s.session.revoke(s.subscriptionId, revocation.why, { roomId: revocation.roomId });
  }
}

/** What can end sessions: a STOMP endpoint (StompEndpoint.endSessions). */
export interface SessionOwner {
  endSessions(match: (p: Principal) => boolean, end: SessionEnd): number;
}

/** How sessions are ended: the ERROR frame's message, body and headers, then the close code. */
export interface SessionEnd {
  message: string;
  details: string;
  closeCode: number;
  /** Sent on the ERROR frame (x-error-code and what goes with it). */
  headers: Record<string, string>;
}

const WHY: Record<SessionControlEvent["reason"], string> = {
  logout: "you logged out",
  "token-reuse": "a refresh token of this login was used twice, so the login was revoked",
  "account-deleted": "the account was deleted",
};

/**
 * Ends the sessions a revocation event names — of the user's login (token family), or all the user's
 * — with ERROR `session revoked` (x-error-code: session_revoked, x-revoked-reason: the event's reason)
 * and close 4003: log in again.
 * Used by ws-node and presence-node; `forget` drops cached session checks so CONNECT asks the store.
 */
export function endRevokedSessions(
  event: SessionControlEvent,
  endpoints: readonly SessionOwner[],
  forget?: (userId: string) => void,
): number {
  forget?.(event.userId);
  const match = (p: Principal) =>
    p.userId === event.userId && (event.familyId === undefined || p.familyId === event.familyId);
  const end = {
    message: "session revoked",
    details: `${WHY[event.reason]}; log in again`,
    closeCode: CloseCode.sessionRevoked,
    // Why, for clients to say so: a deleted account needs no refresh attempt to know it is over.
    headers: { "x-error-code": "session_revoked", "x-revoked-reason": event.reason },
  };
  let ended = 0;
  for (const e of endpoints) ended += e.endSessions(match, end);
  return ended;
}
