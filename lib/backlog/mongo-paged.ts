import type { Collection, Db } from "mongodb";
import { type ChatMessage, toChatMessage } from "../chat/message.ts";
import { unreadFor } from "../chat/unread.ts";
import {
  type AmendTarget,
  applyAmendments,
  type BacklogLayout,
  insertIgnoringDuplicates,
  isDuplicateKey,
  mapLimit,
} from "./mongo-support.ts";

/** Messages per page: what one equality query returns. */
export const DEFAULT_PAGE_SIZE = 100;

/** Rooms handled at once by one append or countsAfter call. */
const ROOM_CONCURRENCY = 8;

/**
 * A message: `_id` is its seq, `rank` its position in the room (1, 2, 3, ...), `page` the rank's page;
 * `amendedSeq` the seq of the last edit applied to it.
 */
type MessageDoc = ChatMessage & { _id: number; rank: number; page: number; amendedSeq?: number };
/** The directory of a room's pages: the seq of each page's first message. */
type PageDoc = { _id: string; dir: true; index: number; first: number };
/** Where the room ends, as last written: a hint, checked by every reader (see lastOf). */
type TailDoc = { _id: "tail"; lastRank: number; lastSeq: number };
/** The epoch of the bus log the room's messages came from (lib/backlog/epochs.ts). */
type EpochDoc = { _id: "epoch"; epoch: string };
type RoomDoc = MessageDoc | PageDoc | TailDoc | EpochDoc;
type Room = Collection<RoomDoc>;

/** A room's last message: its rank (the room's message count) and seq; 0 and 0 when empty. */
interface End {
  rank: number;
  seq: number;
}

/**
 * The layout for FerretDB v1, whose planner serves no range, sort or limit from an index: it passes
 * equality filters down (on PostgreSQL as a sequential scan of the collection's table) and does the
 * rest in memory, so a query costs the table's size plus the documents it returns (those dominate:
 * FerretDB decodes and re-encodes each). Hence:
 * - one collection per room, so a room's reads never scan another room's messages;
 * - every message carries its rank in the room (1, 2, 3, ...) and the page of that rank (`pageSize`
 *   ranks a page): a seq's rank is one equality on `_id`, and a page one equality on `page` that
 *   returns exactly its messages;
 * - a directory document per page holds the seq of the page's first message, to place a seq that
 *   is not stored (a read position of 0, an arbitrary `x-since-seq`) with one read and a binary search;
 * - a tail document holds the last rank and seq, so counts and lastSeq need no page;
 * - an epoch document names the bus log the room's messages came from.
 * A read costs two to four equality queries, each returning one document or one page, whatever the
 * other rooms hold.
 *
 * Ranks are dense, so they must be given in the bus's order: an append holds, per room, messages
 * above everything stored or re-appends stored ones (Backlog's precondition). The rank of a batch's
 * first message is derived from what is stored below it, which is complete — a batch is committed
 * only after it is stored, and a failed one is retried from its start — so a redelivered or
 * concurrently repeated batch gets the same ranks again and its inserts are no-ops. Messages go in
 * before their directory entries and the tail: a reader never sees a page or end that is not there.
 */
export function pagedLayout(db: Db, pageSize = DEFAULT_PAGE_SIZE): BacklogLayout {
  const roomOf = (roomId: string): Room => db.collection<RoomDoc>(collectionName(roomId));
  const pageOf = (rank: number) => Math.floor((rank - 1) / pageSize);

  async function page(room: Room, k: number): Promise<MessageDoc[]> {
    const docs = (await room.find({ page: k }).toArray()) as MessageDoc[];
    return docs.sort((a, b) => a._id - b._id);
  }

  /** The messages of ranks [from, to], in order (fewer where the room ends). */
  async function ranks(room: Room, from: number, to: number): Promise<MessageDoc[]> {
    if (to < from) return [];
    const ks = Array.from({ length: pageOf(to) - pageOf(from) + 1 }, (_, i) => pageOf(from) + i);
    const docs = (await Promise.all(ks.map((k) => page(room, k)))).flat();
    return docs.filter((d) => d.rank >= from && d.rank <= to);
  }

  const byRank = async (room: Room, rank: number) =>
    (await room.findOne({ rank }, { projection: { rank: 1 } })) as { _id: number; rank: number } | null;

  /**
   * The room's end. The tail document is a hint — two writers of one room (a Kafka rebalance) may
   * leave it behind the truth for a moment — so the next rank is probed: absent, the hint is the end;
   * present, the end is searched for, doubling then halving, one document per probe.
   */
  async function lastOf(room: Room): Promise<End> {
    const tail = (await room.findOne({ _id: "tail" })) as TailDoc | null;
    let end: End = tail ? { rank: tail.lastRank, seq: tail.lastSeq } : { rank: 0, seq: 0 };
    let step = 1;
    let missing = 0;
    for (;;) {
      const found = await byRank(room, end.rank + step);
      if (!found) {
        missing = end.rank + step;
        break;
      }
      end = { rank: found.rank, seq: found._id };
      step *= 2;
    }
    while (missing - end.rank > 1) {
      const mid = (end.rank + missing) >> 1;
      const found = await byRank(room, mid);
      if (found) end = { rank: found.rank, seq: found._id };
      else missing = mid;
    }
    return end;
  }

  /** First seqs of the room's pages, in page order, up to the first gap (a directory still being written). */
  async function directory(room: Room): Promise<number[]> {
    const docs = (await room.find({ dir: true }).toArray()) as PageDoc[];
    const byPage = new Map(docs.map((d) => [d.index, d.first]));
    const firsts: number[] = [];
    for (let k = 0; byPage.has(k); k++) firsts.push(byPage.get(k)!);
    return firsts;
  }

  /** The rank of the room's last message with seq <= `seq` (0 when there is none). */
  async function rankAtOrBelow(room: Room, seq: number): Promise<number> {
    if (seq <= 0) return 0;
    const stored = (await room.findOne({ _id: seq }, { projection: { rank: 1 } })) as MessageDoc | null;
    if (stored) return stored.rank;
    const firsts = await directory(room);
    const k = lastIndex(firsts, (first) => first <= seq);
    if (k < 0) return 0;
    const below = (await page(room, k)).filter((d) => d._id <= seq);
    const last = below[below.length - 1];
    if (!last) throw new Error(`backlog: the first message (seq ${firsts[k]}) of page ${k} is missing`);
    return last.rank;
  }

  /**
   * How many of the room's messages have seq < `seq`. History pages ask below a message they showed
   * (one lookup) or below everything (the room's end answers).
   */
  async function countBelow(room: Room, seq: number): Promise<number> {
    if (seq <= 1) return 0;
    const stored = (await room.findOne({ _id: seq }, { projection: { rank: 1 } })) as MessageDoc | null;
    if (stored) return stored.rank - 1;
    const end = await lastOf(room);
    return end.seq < seq ? end.rank : rankAtOrBelow(room, seq - 1);
  }

  async function appendRoom(roomId: string, batch: ChatMessage[]): Promise<void> {
    const room = roomOf(roomId);
    const start = batch[0]!.seq;
    const end = await lastOf(room);
    // Usually the batch follows the room's end; a redelivered one is placed by what lies below it.
    let rank = end.seq < start ? end.rank : await rankAtOrBelow(room, start - 1);
    const messages: MessageDoc[] = [];
    const entries: PageDoc[] = [];
    for (const m of batch) {
      rank++;
      const k = pageOf(rank);
      messages.push({ _id: m.seq, rank, page: k, ...toChatMessage(m) });
      if ((rank - 1) % pageSize === 0) entries.push({ _id: `page:${k}`, dir: true, index: k, first: m.seq });
    }
    await insertIgnoringDuplicates(room, messages);
    await insertIgnoringDuplicates(room, entries);
    // Amendments before the tail moves: a reader who sees the edit at the end also sees it applied.
    // Their filters on target or sender scan only this room's collection.
    await applyAmendments(
      { collection: room as unknown as AmendTarget["collection"], inRoom: {}, seqField: "_id" },
      batch,
    );
    const last = messages[messages.length - 1]!;
    const moveTail = () =>
      room.updateOne({ _id: "tail" }, { $max: { lastRank: last.rank, lastSeq: last._id } }, { upsert: true });
    // Two writers creating the tail at once: one insert wins, the other's upsert fails; then it updates.
    await moveTail().catch((err) => {
      if (!isDuplicateKey(err)) throw err;
      return moveTail();
    });
  }

  return {
    async append(batch) {
      const byRoom = new Map<string, ChatMessage[]>();
      for (const m of batch) {
        const list = byRoom.get(m.roomId);
        if (list) list.push(m);
        else byRoom.set(m.roomId, [m]);
      }
      await mapLimit([...byRoom], ROOM_CONCURRENCY, ([roomId, list]) =>
        appendRoom(roomId, ascendingUnique(list)),
      );
    },
    async after(roomId, afterSeq, limit) {
      if (limit <= 0) return [];
      const room = roomOf(roomId);
      const seen = await rankAtOrBelow(room, afterSeq);
      // Caught up is the common answer (a replay's last call): one document says so, not a page.
      if (!(await byRank(room, seen + 1))) return [];
      return (await ranks(room, seen + 1, seen + limit)).map(toChatMessage);
    },
    async before(roomId, beforeSeq, limit) {
      if (limit <= 0) return [];
      const room = roomOf(roomId);
      const below = await countBelow(room, beforeSeq);
      return (await ranks(room, Math.max(1, below - limit + 1), below)).map(toChatMessage);
    },
    async countsAfter(positions, cap) {
      const entries = [...positions];
      const counts = await mapLimit(entries, ROOM_CONCURRENCY, async ([roomId, afterSeq]) => {
        const room = roomOf(roomId);
        const [end, seen] = await Promise.all([lastOf(room), rankAtOrBelow(room, afterSeq)]);
        return Math.min(cap, Math.max(0, end.rank - seen));
      });
      return new Map(entries.map(([roomId], i) => [roomId, counts[i]!] as const).filter(([, n]) => n > 0));
    },
    async unreadCounts(reader, positions, cap) {
      const entries = [...positions];
      const counts = await mapLimit(entries, ROOM_CONCURRENCY, async ([roomId, afterSeq]) => {
        const room = roomOf(roomId);
        const [end, seen] = await Promise.all([lastOf(room), rankAtOrBelow(room, afterSeq)]);
        // Nothing past the position (the common answer) reads no page; otherwise the pages after it
        // are read in order until the cap: O(log N + the pages holding the first `cap` unread).
        let n = 0;
        for (let k = pageOf(seen + 1); seen < end.rank && k <= pageOf(end.rank) && n < cap; k++) {
          const docs = (await room
            .find({ page: k }, { projection: { rank: 1, type: 1, sender: 1, deletedAt: 1 } })
            .toArray()) as MessageDoc[];
          for (const d of docs) if (d.rank > seen && d.rank <= end.rank && unreadFor(d, reader)) n++;
        }
        return Math.min(n, cap);
      });
      return new Map(entries.map(([roomId], i) => [roomId, counts[i]!] as const).filter(([, n]) => n > 0));
    },
    async lastSeq(roomId) {
      return (await lastOf(roomOf(roomId))).seq;
    },
    async epochs(roomIds) {
      const found = await mapLimit(roomIds, ROOM_CONCURRENCY, async (roomId) => {
        const doc = (await roomOf(roomId).findOne({ _id: "epoch" })) as EpochDoc | null;
        return [roomId, doc?.epoch] as const;
      });
      return new Map(found.filter((f): f is readonly [string, string] => f[1] !== undefined));
    },
    async claimEpoch(roomId, epoch) {
      // Insert-if-absent by _id, then read back whichever insert won.
      const room = roomOf(roomId);
      await insertIgnoringDuplicates(room, [{ _id: "epoch", epoch }]);
      const doc = (await room.findOne({ _id: "epoch" })) as EpochDoc | null;
      if (!doc) throw new Error(`room ${roomId}: epoch not stored`);
      return doc.epoch;
    },
  };
}

/**
 * The room's collection. Room ids are UUIDs in practice; anything a collection name cannot hold
 * ('$', NUL) is percent-encoded, and an id too long for a name is replaced by its SHA-256.
 */
export function collectionName(roomId: string): string {
  const encoded = encodeURIComponent(roomId);
  if (encoded.length <= 180) return `backlog.${encoded}`;
  return `backlog.#${new Bun.CryptoHasher("sha256").update(roomId).digest("hex")}`;
}

/** A room's messages of one batch in seq order, the first of each seq kept (the rest are replays). */
function ascendingUnique(messages: ChatMessage[]): ChatMessage[] {
  const sorted = [...messages].sort((a, b) => a.seq - b.seq);
  return sorted.filter((m, i) => i === 0 || m.seq !== sorted[i - 1]!.seq);
}

/** The last index whose value satisfies `pred`, for a predicate true on a prefix; -1 when none does. */
export function lastIndex(values: readonly number[], pred: (value: number) => boolean): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pred(values[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
