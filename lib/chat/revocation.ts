import type { ControlEvent } from "../bus/types.ts";

/** A live subscription of one user, on any STOMP endpoint, that a membership change can end. */
export interface RevocableSubscription {
  readonly session: { revoke(subscriptionId: string, why: string, extra?: Record<string, unknown>): void };
  readonly subscriptionId: string;
  readonly userId: string;
}

/** Why a control event ends a member's subscriptions, as the client is told. */
export function revocationReason(event: ControlEvent): string {
  return event.type === "room-deleted" ? "the room was deleted" : "you are no longer a member";
}

/**
 * Ends what a control event takes away, among one room's subscriptions: all of them when the room
 * was deleted, the removed member's otherwise. Used by ws-node (chat) and presence-node (rosters).
 */
export function revokeSubscriptions(event: ControlEvent, subs: readonly RevocableSubscription[]): void {
  const why = revocationReason(event);
  for (const s of subs) {
    if (event.type === "member-removed" && s.userId !== event.userId) continue;
    s.session.revoke(s.subscriptionId, why, { roomId: event.roomId });
  }
}
