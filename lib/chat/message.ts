import { z } from "zod";

/**
 * What a room's log carries, each with a seq: members' messages; the lines of membership and room
 * changes (join, leave, update); and amendments of earlier messages (edit, delete), which replay and
 * history carry like any line so every client ends up with the same view.
 */
export const ROOM_EVENT_TYPES = ["message", "join", "leave", "update", "edit", "delete"] as const;
export type ChatMessageType = (typeof ROOM_EVENT_TYPES)[number];

/** Kinds that change an earlier message (their `target`) rather than add one. */
export const AMENDMENT_TYPES: readonly ChatMessageType[] = ["edit", "delete"];

/** How a deleted account appears wherever it is named: history, replay, rosters. */
export const DELETED_USER_NAME = "deleted user";

export interface UserRef {
  id: string;
  username: string;
}

/** What an `update` line says changed about the room. */
export interface RoomUpdate {
  name?: string;
  description?: string;
  maxMembers?: number;
  private?: boolean;
  ownerId?: string;
}

/** A message as stored and delivered: stamped once by the bus, identical on every replica and in the backlog. */
export interface ChatMessage {
  /** Unique id (UUIDv7), also the STOMP message-id. */
  id: string;
  roomId: string;
  /** The room's position: strictly increasing per room (gaps allowed), assigned by the bus on durable append. */
  seq: number;
  type: ChatMessageType;
  /** Who wrote it, or whom a join/leave line is about; for edit/delete, who changed the target. */
  sender: UserRef;
  /** The message, or the line as people read it; for edit the new text; "" for delete and deleted messages. */
  text: string;
  /** ISO-8601 time the node accepted it. */
  sentAt: string;
  /**
   * The sender's own id for the message (SEND header `x-client-msg-id`), when it gave one: the same
   * for every retry of one logical message, so readers keep the first copy (lib/delivery) and the
   * sender can match the message to its outbox.
   */
  clientMsgId?: string;
  /** message: when it was last edited; history and the backlog hold the current text. */
  editedAt?: string;
  /** message: when it was deleted; its text is gone (a tombstone). */
  deletedAt?: string;
  /** edit, delete: the message they change. */
  target?: { id: string; seq: number };
  /** update: what changed. */
  changes?: RoomUpdate;
  /** leave: the owner who removed (or banned) the member. */
  by?: UserRef;
  /** leave: the member's account was deleted; their earlier lines in the room read "deleted user". */
  accountDeleted?: boolean;
}

/** A message before the bus has given it a position. */
export type MessageDraft = Omit<ChatMessage, "seq">;

/**
 * A message as the bus hands it out: with the epoch of the log it was appended to. A room's `seq`
 * values compare only within one epoch; a new epoch means its log started again (a Kafka topic or
 * bus.db created anew). The epoch stays between the bus and the backlog; clients never see it.
 */
export interface LoggedMessage extends ChatMessage {
  epoch: string;
}

const OPTIONAL_FIELDS = [
  "clientMsgId",
  "editedAt",
  "deletedAt",
  "target",
  "changes",
  "by",
  "accountDeleted",
] as const satisfies readonly (keyof ChatMessage)[];

/** The client-visible fields of a message: what MESSAGE bodies and the history API carry. */
export function toChatMessage(m: ChatMessage): ChatMessage {
  const out: ChatMessage = {
    id: m.id,
    roomId: m.roomId,
    seq: m.seq,
    type: m.type,
    sender: { id: m.sender.id, username: m.sender.username },
    text: m.text,
    sentAt: m.sentAt,
  };
  for (const key of OPTIONAL_FIELDS) {
    if (m[key] !== undefined && m[key] !== null) (out as unknown as Record<string, unknown>)[key] = m[key];
  }
  return out;
}

/** What a client message id (`x-client-msg-id`) may be: a UUID, a ULID, a counter with a prefix. */
export const CLIENT_MSG_ID = /^[\w.:-]{1,64}$/;

/** Body of a client SEND to /topic/rooms/<id>. */
export const sendBodySchema = (maxChars: number) =>
  z
    .object({
      text: z
        .string()
        .refine((t) => t.trim().length > 0, "text must not be blank")
        .refine((t) => t.length <= maxChars, `text must be at most ${maxChars} characters`),
    })
    .strict();

/** Anything but whitespace (the characters String.prototype.trim removes): a body that is not blank. */
const NOT_BLANK = /\S/;

/**
 * True when `input` is a body sendBodySchema accepts, checked without it: `{ text }` and nothing else,
 * a string neither blank nor too long. The schema's parse allocates ~20 objects, at every SEND; it
 * still judges (and words the refusal of) anything this does not pass.
 */
export function isPlainTextBody(input: unknown, maxChars: number): input is { text: string } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return false;
  let keys = 0;
  for (const key in input) {
    if (key !== "text" || ++keys > 1) return false;
  }
  const text = (input as { text?: unknown }).text;
  return keys === 1 && typeof text === "string" && text.length <= maxChars && NOT_BLANK.test(text);
}

export function newDraft(
  roomId: string,
  type: ChatMessageType,
  sender: UserRef,
  text: string,
  extra: Partial<Pick<ChatMessage, (typeof OPTIONAL_FIELDS)[number]>> = {},
): MessageDraft {
  return { id: Bun.randomUUIDv7(), roomId, type, sender, text, sentAt: new Date().toISOString(), ...extra };
}
