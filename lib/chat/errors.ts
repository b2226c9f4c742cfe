import { ConflictError, ForbiddenError, RoomNotFoundError } from "../store/types.ts";

/**
 * Why the chat domain refused an action, in terms every transport maps the same way: the http-api to
 * a status (invalid 400, gone 401, forbidden 403, not_found 404, conflict 409, unavailable 503), the
 * STOMP app to a refusal code. `code` is the stable, machine-readable reason clients act on.
 */
export type ChatErrorKind = "invalid" | "gone" | "forbidden" | "not_found" | "conflict" | "unavailable";

export class ChatError extends Error {
  override readonly name = "ChatError";
  constructor(
    readonly kind: ChatErrorKind,
    readonly code: string,
    message: string,
    /** Per-field reasons, for `invalid`. */
    readonly fields?: Record<string, string>,
    /** What a transport passes on as it is (a SEND's `outcome`). */
    readonly details?: Record<string, string>,
  ) {
    super(message);
  }
}

/** The STOMP refusal code (SEND notice or ERROR) for each kind of domain refusal; docs/protocol.md lists them. */
export const STOMP_REFUSAL_CODES = {
  invalid: "invalid_message",
  gone: "forbidden",
  forbidden: "forbidden",
  not_found: "forbidden",
  conflict: "invalid_message",
  unavailable: "unavailable",
} as const satisfies Record<ChatErrorKind, string>;

export const roomNotFound = () => new ChatError("not_found", "room_not_found", "no such room");
export const notMember = () => new ChatError("forbidden", "not_member", "you are not a member of this room");
export const notOwner = (what: string) =>
  new ChatError("forbidden", "not_owner", `only the owner can ${what}`);
export const userNotFound = () => new ChatError("not_found", "user_not_found", "no such user");
export const dmRoom = () =>
  new ChatError("forbidden", "dm_room", "a direct-message room has no owner actions; leave it instead");
export const busUnavailable = () =>
  new ChatError("unavailable", "bus_unavailable", "the message bus is unavailable; retry shortly");

/**
 * A member's message the bus did not take: certainly not stored (`not_written`: send it again), or
 * perhaps stored (`unknown`): a retry with the same client message id is safe, without one it may
 * store the message twice.
 */
export function sendUnavailable(outcome: "not_written" | "unknown", withClientId: boolean): ChatError {
  if (outcome === "not_written") {
    return new ChatError(
      "unavailable",
      "bus_unavailable",
      "message not stored: the message bus is unavailable; send it again",
      undefined,
      { outcome },
    );
  }
  const again = withClientId
    ? "send it again with the same x-client-msg-id: it will not be stored twice"
    : "sending it again may store it twice (send x-client-msg-id to make retries safe)";
  return new ChatError(
    "unavailable",
    "bus_unavailable",
    `outcome unknown: the message bus did not confirm the message in time and it may be stored; ${again}`,
    undefined,
    { outcome },
  );
}

/** A refusal a store raised (its own error types), as the domain reports it; anything else as it is. */
export function storeRefusal(err: unknown): unknown {
  if (err instanceof ConflictError) return new ChatError("conflict", err.code, err.message);
  if (err instanceof ForbiddenError) return new ChatError("forbidden", err.code, err.message);
  if (err instanceof RoomNotFoundError) return roomNotFound();
  return err;
}
