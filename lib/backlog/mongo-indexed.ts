import type { Collection, Db } from "mongodb";
import { type ChatMessage, toChatMessage } from "../chat/message.ts";
import {
  type AmendTarget,
  applyAmendments,
  type BacklogLayout,
  insertIgnoringDuplicates,
  mapLimit,
} from "./mongo-support.ts";

/**
 * A stored message: the ChatMessage fields, with _id = "<roomId>:<seq>" so a replayed write is a no-op;
 * `amendedSeq`, the seq of the last edit applied, keeps an older edit from overwriting a newer one.
 */
type MessageDoc = ChatMessage & { _id: string; amendedSeq?: number };

/** The epoch of the bus log a room's messages came from, by room id. */
type EpochDoc = { _id: string; epoch: string };

/** Unread counts issued at once per countsAfter call: each is one bounded index scan. */
const COUNT_CONCURRENCY = 16;

/**
 * One `messages` collection with a unique {roomId: 1, seq: 1} index, for a server whose planner uses
 * it (real MongoDB). Each read is an equality on roomId plus a range on seq, sorted on seq: MongoDB
 * answers it with one IXSCAN over exactly those keys (no SORT stage, the limit stops the scan), so a
 * page costs O(log N + page); lastSeq reads one key from the end of the room's range; a capped count
 * is a COUNT_SCAN that stops at the cap.
 */
export function indexedLayout(db: Db): BacklogLayout {
  const messages: Collection<MessageDoc> = db.collection<MessageDoc>("messages");
  const roomEpochs: Collection<EpochDoc> = db.collection<EpochDoc>("room_epochs");
  let indexed: Promise<unknown> | undefined;
  const ready = () => {
    indexed ??= Promise.all([
      messages.createIndex({ roomId: 1, seq: 1 }, { unique: true, name: "room_seq" }),
      // Amendments find a deleted message's edits, and a deleted account's lines, within one room.
      messages.createIndex({ roomId: 1, "target.seq": 1 }, { name: "room_target" }),
      messages.createIndex({ roomId: 1, "sender.id": 1 }, { name: "room_sender" }),
      // Unread counts walk a room's chat messages only, past its other lines.
      messages.createIndex({ roomId: 1, type: 1, seq: 1 }, { name: "room_type_seq" }),
    ]).catch((err) => {
      indexed = undefined;
      throw err;
    });
    return indexed;
  };
  const projection = { _id: 0, amendedSeq: 0 } as const;

  return {
    async append(batch) {
      await ready();
      await insertIgnoringDuplicates(
        messages,
        batch.map((m): MessageDoc => ({ _id: `${m.roomId}:${m.seq}`, ...toChatMessage(m) })),
      );
      const byRoom = Map.groupBy(batch, (m) => m.roomId);
      for (const [roomId, list] of byRoom) {
        const collection = messages as unknown as AmendTarget["collection"];
        await applyAmendments({ collection, inRoom: { roomId }, seqField: "seq" }, list);
      }
    },
    async after(roomId, afterSeq, limit) {
      const docs = await messages
        .find({ roomId, seq: { $gt: afterSeq } }, { projection })
        .sort({ seq: 1 })
        .limit(limit)
        .toArray();
      return docs.map(toChatMessage);
    },
    async before(roomId, beforeSeq, limit) {
      const docs = await messages
        .find({ roomId, seq: { $lt: beforeSeq } }, { projection })
        .sort({ seq: -1 })
        .limit(limit)
        .toArray();
      return docs.map(toChatMessage).reverse();
    },
    async countsAfter(positions, cap) {
      // One capped count per room, issued together over the connection pool. A single $unionWith
      // aggregation would save the round trips, but FerretDB v1 (where the contract tests run this
      // layout too) has no $unionWith.
      const entries = [...positions];
      const counts = await mapLimit(entries, COUNT_CONCURRENCY, ([roomId, afterSeq]) =>
        messages.countDocuments({ roomId, seq: { $gt: afterSeq } }, { limit: cap }),
      );
      return new Map(entries.map(([roomId], i) => [roomId, counts[i]!] as const).filter(([, n]) => n > 0));
    },
    async unreadCounts(reader, positions, cap) {
      // As countsAfter, over the room's chat messages (room_type_seq), skipping the reader's own and
      // deleted ones (the rule of unreadFor in lib/chat/unread.ts).
      const entries = [...positions];
      const counts = await mapLimit(entries, COUNT_CONCURRENCY, ([roomId, afterSeq]) =>
        messages.countDocuments(
          {
            roomId,
            type: "message",
            seq: { $gt: afterSeq },
            "sender.id": { $ne: reader },
            deletedAt: { $exists: false },
          },
          { limit: cap },
        ),
      );
      return new Map(entries.map(([roomId], i) => [roomId, counts[i]!] as const).filter(([, n]) => n > 0));
    },
    async lastSeq(roomId) {
      const last = await messages
        .find({ roomId }, { projection: { seq: 1 } })
        .sort({ seq: -1 })
        .limit(1)
        .next();
      return last?.seq ?? 0;
    },
    async epochs(roomIds) {
      const docs = await roomEpochs.find({ _id: { $in: [...roomIds] } }).toArray();
      return new Map(docs.map((d) => [d._id, d.epoch]));
    },
    async claimEpoch(roomId, epoch) {
      // Insert-if-absent by _id, then read back whichever insert won.
      await insertIgnoringDuplicates(roomEpochs, [{ _id: roomId, epoch }]);
      const doc = await roomEpochs.findOne({ _id: roomId });
      if (!doc) throw new Error(`room ${roomId}: epoch not stored`);
      return doc.epoch;
    },
  };
}
