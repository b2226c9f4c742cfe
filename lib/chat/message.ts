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
  return {
    id: m.id,
    roomId: m.roomId,
    seq: m.seq,
    type: m.type,
    sender: { id: m.sender.id, username: m.sender.username },
    text: m.text,
    sentAt: m.sentAt,
  };
}

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

export function newDraft(roomId: string, type: ChatMessageType, sender: UserRef, text: string): MessageDraft {
  return { id: Bun.randomUUIDv7(), roomId, type, sender, text, sentAt: new Date().toISOString() };
}
