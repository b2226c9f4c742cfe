import type { ChatMessage } from "../chat/message.ts";

/**
 * Durable history of every room. Writes are idempotent on (roomId, seq) so the backlog writer can
 * replay a batch after a crash without duplicates.
 */
export interface Backlog {
  append(messages: readonly ChatMessage[]): Promise<void>;
  /** Messages with seq > afterSeq, ascending, at most `limit`. */
  after(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]>;
  /** Messages with seq < beforeSeq, ascending (the newest `limit` of them). */
  before(roomId: string, beforeSeq: number, limit: number): Promise<ChatMessage[]>;
  /** How many messages have seq > afterSeq (unread counts). */
  countAfter(roomId: string, afterSeq: number): Promise<number>;
  /** Highest seq stored for the room, or 0. */
  lastSeq(roomId: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
