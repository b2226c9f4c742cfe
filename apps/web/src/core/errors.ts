/**
 * Every error code the server can answer with (HTTP `error.code`, STOMP notice `code`), in words a
 * person can act on. Protocol text never reaches the screen: an unknown code gets a generic line.
 */

/** An HTTP API failure, or `status` 0 when the server could not be reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
    readonly retryAfterSec?: number,
  ) {
    super(message);
  }
}

const seconds = (s: number | undefined) => (s && s > 1 ? `${Math.ceil(s)} seconds` : "a moment");

const messages: Record<string, (e: { retryAfterSec?: number }) => string> = {
  network: () => "Can't reach ChatTalk. Check your connection — we'll keep trying.",
  invalid_credentials: () => "Wrong username or password.",
  username_taken: () => "That username is taken. Try another one.",
  username_confusable: () => "That username looks too much like someone else's. Try another one.",
  rate_limited: (e) => `Too many attempts. Try again in ${seconds(e.retryAfterSec)}.`,
  validation_failed: () => "Please fix the highlighted fields.",
  room_full: () => "This room is full. Try again when someone leaves.",
  already_member: () => "You're already a member of this room.",
  not_member: () => "You're not a member of this room.",
  not_owner: () => "Only the room's owner can do that.",
  room_not_found: () => "This room doesn't exist any more.",
  banned: () => "The room's owner has kept you out of this room.",
  below_member_count: () => "The room already has more members than that. Pick a larger number.",
  invite_invalid: () => "This invite link isn't valid. Ask for a new one.",
  invite_expired: () => "This invite link has expired. Ask for a new one.",
  invite_revoked: () => "This invite link was withdrawn. Ask for a new one.",
  invite_required: () => "This room is private: you need an invite link to join.",
  not_joinable: () => "This room can't be joined.",
  dm_room: () => "That isn't possible in a direct conversation.",
  dm_self: () => "You can't start a conversation with yourself.",
  user_not_found: () => "That person doesn't have an account any more.",
  user_gone: () => "Your account no longer exists.",
  wrong_password: () => "That password isn't right.",
  cannot_remove_self: () => "You can't remove yourself. Leave the room instead.",
  already_owner: () => "They already own this room.",
  not_banned: () => "That person isn't banned.",
  forbidden: () => "You're not a member of this room.",
  read_only: () => "That can't be sent from here.",
  signals_unavailable: () => "Typing and read receipts aren't available right now.",
  not_sender: () => "You can only change your own messages.",
  not_a_message: () => "Only messages can be changed.",
  message_deleted: () => "That message was deleted.",
  message_not_found: () => "That message isn't there any more.",
  invalid_message: () => "A message can't be empty or longer than 4,000 characters.",
  not_found: () => "That page doesn't exist.",
  bus_unavailable: () => "ChatTalk is having trouble right now. Try again in a moment.",
  not_ready: () => "ChatTalk is starting up. Try again in a moment.",
  shutting_down: () => "ChatTalk is restarting. Try again in a moment.",
  upgrade_required: () => "Your browser couldn't open a live connection. Reload the page.",
  origin_not_allowed: () =>
    "This page isn't allowed to connect to ChatTalk. Open ChatTalk from its own address.",
  method_not_allowed: () => "Something went wrong sending that. Reload the page and try again.",
  too_many_connections: () => "Too many connections from your network right now. Try again in a moment.",
  server_busy: () => "ChatTalk is very busy right now. Try again in a moment.",
  busy: (e) => `Lots of people are signing in right now. Try again in ${seconds(e.retryAfterSec)}.`,
  request_timeout: () => "That took too long to send. Check your connection and try again.",
  unsupported_subprotocol: () => "Your browser couldn't open a live connection. Reload the page.",
  payload_too_large: () => "That's too long to send.",
  unsupported_media_type: () => "Something went wrong sending that. Reload the page and try again.",
  bad_request: () => "Something went wrong sending that. Reload the page and try again.",
  internal: () => "Something went wrong on our side. Try again.",
  token_missing: () => "Your session has ended. Please log in again.",
  token_expired: () => "Your session has ended. Please log in again.",
  token_invalid: () => "Your session has ended. Please log in again.",
  refresh_token_expired: () => "You were away for a long time, so your session ended. Please log in again.",
  refresh_token_invalid: () =>
    "Your session was ended (you logged out, or it was revoked). Please log in again.",
  refresh_token_missing: () => "Your session has ended. Please log in again.",
};

/** A sentence for any failure: ApiError by code, anything else as "unexpected". */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const describe = messages[err.code];
    if (describe) return describe(err);
    return err.status >= 500 ? messages.internal!({}) : "That didn't work. Try again.";
  }
  return "Something unexpected went wrong. Try again.";
}

/** What the login screen says when this account is gone (ERROR x-revoked-reason, or DELETE /api/me). */
export const ACCOUNT_DELETED = "Your account was deleted.";

/** Why a message could not be sent, from a STOMP notice code (see docs/protocol.md). */
export function describeSendRefusal(code: string): string {
  switch (code) {
    case "rate_limited":
      return "Sending too fast — waiting a moment.";
    case "invalid_message":
      return "This message can't be sent: it is empty or too long.";
    case "forbidden":
      return "You're not a member of this room.";
    case "unknown_destination":
      return "This room doesn't exist any more.";
    case "unavailable":
      return "ChatTalk couldn't store this message right now.";
    case "store_unavailable":
      return "ChatTalk can't check this right now; trying again shortly.";
    case "replay_limited":
      return "Too many rooms are loading at once; trying again shortly.";
    case "replay_incomplete":
      return "Some earlier messages couldn't be loaded; reopen the room to try again.";
    case "subscription_revoked":
      return "You're no longer a member of this room.";
    case "timeout":
      return "No answer from ChatTalk yet.";
    default:
      return "ChatTalk refused this message.";
  }
}

/** Refusals that waiting fixes: the outbox retries these by itself. */
export const transientRefusals = new Set(["rate_limited", "unavailable", "store_unavailable", "timeout"]);
