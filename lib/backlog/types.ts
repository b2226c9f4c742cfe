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
  /**
   * The epoch of the bus log each room's stored messages came from (see LoggedMessage), for those of
   * `roomIds` that have one. Seqs of two epochs do not compare: lib/backlog/epochs.ts refuses to mix them.
   */
  epochs(roomIds: readonly string[]): Promise<Map<string, string>>;
  /** Records the room's epoch unless it has one already (atomically); resolves with the room's epoch. */
  claimEpoch(roomId: string, epoch: string): Promise<string>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
