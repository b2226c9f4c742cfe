import { type Collection, MongoBulkWriteError, MongoClient, type MongoClientOptions } from "mongodb";
import { type ChatMessage, toChatMessage } from "../chat/message.ts";
import type { Backlog } from "./types.ts";

/** A stored message: the ChatMessage fields, with _id = "<roomId>:<seq>" so a replayed write is a no-op. */
type MessageDoc = ChatMessage & { _id: string };
/** The epoch of the bus log a room's messages came from, by room id. */
type EpochDoc = { _id: string; epoch: string };

const DUPLICATE_KEY = 11000;

/** A batch insert in which every failure is a duplicate: those messages are already stored. */
function onlyDuplicates(err: unknown): boolean {
  if (!(err instanceof MongoBulkWriteError)) return false;
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY);
}

/**
 * The MongoDB backlog (also runs on FerretDB v1, which lacks TTL indexes and transactions; neither is
 * used). Messages live in `messages`, unique on (roomId, seq). The client connects lazily, so a database
 * that is down at start makes calls fail (and the backlog writer retry) rather than the process exit.
 */
export function createMongoBacklog(url: string, dbName: string, options: MongoClientOptions = {}): Backlog {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000, ...options });
  const messages: Collection<MessageDoc> = client.db(dbName).collection<MessageDoc>("messages");
  const roomEpochs: Collection<EpochDoc> = client.db(dbName).collection<EpochDoc>("room_epochs");
  let indexed: Promise<unknown> | undefined;
  const ready = () => {
    indexed ??= messages
      .createIndex({ roomId: 1, seq: 1 }, { unique: true, name: "room_seq" })
      .catch((err) => {
        indexed = undefined;
        throw err;
      });
    return indexed;
  };
  const inRoom = (roomId: string, seq: { $gt: number } | { $lt: number }) => ({ roomId, seq });
  const projection = { _id: 0 } as const;

  return {
    async append(batch) {
      if (batch.length === 0) return;
      await ready();
      const docs = batch.map((m): MessageDoc => ({ _id: `${m.roomId}:${m.seq}`, ...toChatMessage(m) }));
      try {
        await messages.insertMany(docs, { ordered: false });
      } catch (err) {
        if (!onlyDuplicates(err)) throw err;
      }
    },
    async after(roomId, afterSeq, limit) {
      const docs = await messages
        .find(inRoom(roomId, { $gt: afterSeq }), { projection })
        .sort({ seq: 1 })
        .limit(limit)
        .toArray();
      return docs.map(toChatMessage);
    },
    async before(roomId, beforeSeq, limit) {
      const docs = await messages
        .find(inRoom(roomId, { $lt: beforeSeq }), { projection })
        .sort({ seq: -1 })
        .limit(limit)
        .toArray();
      return docs.map(toChatMessage).reverse();
    },
    async countAfter(roomId, afterSeq) {
      return messages.countDocuments(inRoom(roomId, { $gt: afterSeq }));
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
      await roomEpochs.insertOne({ _id: roomId, epoch }).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== DUPLICATE_KEY) throw err;
      });
      const doc = await roomEpochs.findOne({ _id: roomId });
      if (!doc) throw new Error(`room ${roomId}: epoch not stored`);
      return doc.epoch;
    },
    async ping() {
      await client.db(dbName).command({ ping: 1 });
    },
    async close() {
      await client.close();
    },
  };
}
