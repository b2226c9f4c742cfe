import {
  type Collection,
  type Document,
  MongoBulkWriteError,
  MongoServerError,
  type OptionalUnlessRequiredId,
} from "mongodb";
import { type ChatMessage, DELETED_USER_NAME } from "../chat/message.ts";
import type { Backlog } from "./types.ts";

/** A layout of the MongoDB backlog implements the reads and writes; mongo.ts owns the client. */
export type BacklogLayout = Omit<Backlog, "ping" | "close" | "pageReadTargetMs">;

const DUPLICATE_KEY = 11000;

/** A single write refused for a duplicate key. */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** A batch insert in which every failure is a duplicate: those documents are already stored. */
export function onlyDuplicates(err: unknown): boolean {
  if (!(err instanceof MongoBulkWriteError)) return false;
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY);
}

/** Runs `fn` over `items`, at most `limit` at once, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Inserts every document not stored yet: a duplicate _id means that one is there already. */
export async function insertIgnoringDuplicates<T extends Document>(
  collection: Collection<T>,
  docs: OptionalUnlessRequiredId<T>[],
): Promise<void> {
  if (docs.length === 0) return;
  try {
    await collection.insertMany(docs, { ordered: false });
  } catch (err) {
    if (!onlyDuplicates(err)) throw err;
  }
}

/** Where a layout keeps a room's messages: the collection, what selects the room, and the seq's field. */
export interface AmendTarget {
  collection: Collection<Document>;
  inRoom: Document;
  seqField: "seq" | "_id";
}

/**
 * Applies the amendments among a room's appended messages to what is stored, in seq order (see
 * Backlog.append): an edit sets its target's text and editedAt unless the target is deleted or a later
 * edit was applied (`amendedSeq`); a delete leaves a tombstone and clears the text of the target's edits;
 * a leave with accountDeleted re-attributes the leaver's earlier lines. Each step is a no-op when repeated.
 */
export async function applyAmendments(to: AmendTarget, batch: readonly ChatMessage[]): Promise<void> {
  const { collection, inRoom, seqField } = to;
  const at = (seq: number) => ({ ...inRoom, [seqField]: seq });
  for (const m of [...batch].sort((a, b) => a.seq - b.seq)) {
    if (m.type === "edit" && m.target) {
      await collection.updateOne(
        {
          ...at(m.target.seq),
          type: "message",
          deletedAt: { $exists: false },
          $or: [{ amendedSeq: { $exists: false } }, { amendedSeq: { $lt: m.seq } }],
        },
        { $set: { text: m.text, editedAt: m.sentAt, amendedSeq: m.seq } },
      );
      const target = await collection.findOne({ ...at(m.target.seq), deletedAt: { $exists: true } });
      if (target) await collection.updateOne(at(m.seq), { $set: { text: "" } });
    } else if (m.type === "delete" && m.target) {
      await collection.updateOne(
        { ...at(m.target.seq), type: "message", deletedAt: { $exists: false } },
        { $set: { text: "", deletedAt: m.sentAt }, $unset: { editedAt: "" } },
      );
      await collection.updateMany(
        { ...inRoom, "target.seq": m.target.seq, type: "edit" },
        { $set: { text: "" } },
      );
    } else if (m.type === "leave" && m.accountDeleted) {
      await collection.updateMany(
        { ...inRoom, "sender.id": m.sender.id, [seqField]: { $lte: m.seq } },
        { $set: { "sender.username": DELETED_USER_NAME } },
      );
    }
  }
}
