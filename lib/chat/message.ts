import { z } from "zod";

/** What a room's stream carries: ordinary messages and the join/leave lines of membership changes. */
export type ChatMessageType = "message" | "join" | "leave";

export interface UserRef {
  id: string;
  username: string;
}

/** A message as stored and delivered: stamped once by the bus, identical on every replica and in the backlog. */
export interface ChatMessage {
  /** Unique id (UUIDv7), also the STOMP message-id. */
  id: string;
  roomId: string;
  /** The room's position: strictly increasing per room (gaps allowed), assigned by the bus on durable append. */
  seq: number;
  type: ChatMessageType;
  sender: UserRef;
  text: string;
  /** ISO-8601 time the node accepted the message. */
  sentAt: string;
  /**
   * The sender's own id for the message (SEND header `x-client-msg-id`), when it gave one: the same
   * for every retry of one logical message, so readers keep the first copy (lib/delivery) and the
   * sender can match the message to its outbox.
   */
  clientMsgId?: string;
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
  if (m.clientMsgId !== undefined && m.clientMsgId !== null) out.clientMsgId = m.clientMsgId;
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

export function newDraft(
  roomId: string,
  type: ChatMessageType,
  sender: UserRef,
  text: string,
  clientMsgId?: string,
): MessageDraft {
  const draft: MessageDraft = {
    id: Bun.randomUUIDv7(),
    roomId,
    type,
    sender,
    text,
    sentAt: new Date().toISOString(),
  };
  if (clientMsgId !== undefined) draft.clientMsgId = clientMsgId;
  return draft;
}
