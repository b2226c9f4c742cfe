import type { ChatMessage } from "../chat/message.ts";

/**
 * Durable history of every room. Writes are idempotent on (roomId, seq) so the backlog writer can
 * replay a batch after a crash without duplicates.
 *
 * Appends follow the bus's order: for each room, a call holds messages whose seqs lie above
 * everything stored for the room, or re-appends messages already stored (a batch redelivered from
 * its start). The backlog writer gives exactly that — a room's messages live in one partition, read
 * in order, and a failed batch is retried whole — and the FerretDB layout relies on it to number a
 * room's messages densely (lib/backlog/mongo-paged.ts).
 *
 * Every read of one room costs O(log N + page) whatever the other rooms hold.
 */
export interface Backlog {
  /**
   * How long one replay page read may take before the replay halves its pages (apps/ws-node/page-size.ts):
   * short where a read blocks the event loop (bun:sqlite is synchronous), longer where a read is a
   * round trip whose fixed cost dominates and the loop goes on meanwhile (MongoDB, FerretDB).
   */
  readonly pageReadTargetMs: number;
  /**
   * Stores the messages, then applies the amendments among them to what is stored, in seq order, so
   * history and replays show the current state:
   * - `edit`: its target (a `message`) takes its text, with `editedAt` = the edit's sentAt, unless the
   *   target is deleted or a later edit was applied already;
   * - `delete`: its target becomes a tombstone (text "", `deletedAt`, no `editedAt`), and the text of its edits
   *   is cleared too (also of an edit stored after the delete): a deleted message's words are gone;
   * - `leave` with `accountDeleted`: the leaver's lines in that room up to it read as the deleted user.
   * Idempotent: applying a batch again changes nothing.
   */
  append(messages: readonly ChatMessage[]): Promise<void>;
  /** Messages with seq > afterSeq, ascending, at most `limit`. */
  after(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]>;
  /** Messages with seq < beforeSeq, ascending (the newest `limit` of them). */
  before(roomId: string, beforeSeq: number, limit: number): Promise<ChatMessage[]>;
  /**
   * Unread counts for many rooms at once: for each room, how many messages have seq > its position,
   * counted up to `cap` (a result equal to `cap` means "cap or more"). Rooms with nothing after
   * their position may be absent from the result.
   */
  countsAfter(positions: ReadonlyMap<string, number>, cap: number): Promise<Map<string, number>>;
  /**
   * What `reader` has not read, for many rooms at once: for each room, the chat messages (`message`
   * lines, not deleted) by other members with seq > its position, counted up to `cap` (a result equal
   * to `cap` means "cap or more"). Join, leave and update lines, edits and deletes, and the reader's
   * own messages are not unread. Rooms with nothing unread may be absent from the result.
   */
  unreadCounts(
    reader: string,
    positions: ReadonlyMap<string, number>,
    cap: number,
  ): Promise<Map<string, number>>;
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
