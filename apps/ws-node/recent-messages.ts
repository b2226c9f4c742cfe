import { amended, asKept, isAmendment } from "../../lib/chat/amendments.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";
import { RecencyMap } from "../../lib/collections/recency-map.ts";

/**
 * Rough heap cost of a message held in memory: its strings (UTF-16 at worst) plus the objects and
 * fixed-length ids around them. Only used to bound memory, so it errs on the large side.
 */
export function approxBytes(m: ChatMessage): number {
  return 2 * (m.text.length + m.sender.username.length) + 320;
}

export interface RecentMessagesOptions {
  /** Most messages kept per room. */
  perRoom: number;
  /** Most bytes (approxBytes) kept over all rooms; the least recently active rooms go first. */
  maxBytes: number;
  /** Rooms whose latest seq is remembered (one number each, so far more than the rings). */
  maxLatest?: number;
}

/** One room's newest messages, ascending by seq, from index `head` on. */
interface Ring {
  messages: ChatMessage[];
  head: number;
  bytes: number;
  /** Every message of the room with seq > coveredFrom (up to the newest) is in the ring. */
  coveredFrom: number;
}

/**
 * The newest messages of recently active rooms, as this node's bus reader handed them over. A
 * subscription whose missed range lies inside them is replayed from memory, with no backlog read
 * (the common case: a reconnect after a short absence, a drain, a crash of another replica); they
 * also cover what the backlog writer has not stored yet. Bounded per room in messages and over all
 * rooms in bytes: the least recently active rooms are dropped first (their latest seq is kept).
 */
export class RecentMessages {
  /** Least recently active first (RecencyMap: a touch per message costs the same at any room count). */
  private readonly rings = new RecencyMap<string, Ring>();
  private readonly latest = new RecencyMap<string, number>();
  private totalBytes = 0;
  private readonly maxLatest: number;

  constructor(private readonly o: RecentMessagesOptions) {
    this.maxLatest = o.maxLatest ?? 100_000;
  }

  /** Bytes held now (approxBytes), for metrics. */
  get bytes(): number {
    return this.totalBytes;
  }

  push(line: ChatMessage): void {
    let msg = line;
    const roomId = msg.roomId;
    const prev = this.latest.get(roomId);
    if (prev !== undefined && msg.seq <= prev) return; // handed over twice: already here
    if (prev === undefined && this.latest.size >= this.maxLatest) {
      this.latest.delete(this.latest.leastRecent()![0]);
    }
    this.latest.set(roomId, msg.seq);

    let ring = this.rings.get(roomId);
    if (ring) this.rings.touch(roomId);
    else {
      // A room seen before (its ring since dropped) is complete after the last seq seen; otherwise
      // nothing before this message is known.
      ring = { messages: [], head: 0, bytes: 0, coveredFrom: prev ?? msg.seq - 1 };
      this.rings.set(roomId, ring);
    }
    // Held lines read as the backlog stores them: an edit, a delete or a deleted account's leave
    // changes the earlier lines it names, so a replay from memory and one from the backlog agree.
    if (isAmendment(msg)) msg = this.amend(ring, msg);
    const size = approxBytes(msg);
    ring.messages.push(msg);
    ring.bytes += size;
    this.totalBytes += size;
    if (ring.messages.length - ring.head > this.o.perRoom) this.dropOldest(ring);
    while (this.totalBytes > this.o.maxBytes) {
      const [oldestId, oldest] = this.rings.leastRecent()!;
      if (oldest !== ring) {
        this.rings.delete(oldestId);
        this.totalBytes -= oldest.bytes;
      } else if (!this.dropOldest(ring)) break;
    }
  }

  latestSeq(roomId: string): number | undefined {
    return this.latest.get(roomId);
  }

  /** True when every message of the room after `afterSeq` that this node has seen is held here. */
  covers(roomId: string, afterSeq: number): boolean {
    const latest = this.latest.get(roomId);
    if (latest !== undefined && afterSeq >= latest) return true;
    const ring = this.rings.get(roomId);
    return ring !== undefined && ring.coveredFrom <= afterSeq;
  }

  /** Messages with afterSeq < seq <= uptoSeq that are held, ascending. */
  between(roomId: string, afterSeq: number, uptoSeq: number): ChatMessage[] {
    const ring = this.rings.get(roomId);
    if (!ring) return [];
    const list = ring.messages;
    let lo = ring.head;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    const out: ChatMessage[] = [];
    for (let i = lo; i < list.length && list[i]!.seq <= uptoSeq; i++) out.push(list[i]!);
    return out;
  }

  /** Applies an amendment to the ring's earlier lines (copies, never the objects delivered); the amendment as kept. */
  private amend(ring: Ring, by: ChatMessage): ChatMessage {
    let target: ChatMessage | undefined;
    for (let i = ring.head; i < ring.messages.length; i++) {
      const line = ring.messages[i]!;
      if (by.target !== undefined && line.seq === by.target.seq) target = line;
      const next = amended(line, by);
      if (!next) continue;
      const delta = approxBytes(next) - approxBytes(line);
      ring.messages[i] = next;
      ring.bytes += delta;
      this.totalBytes += delta;
    }
    return asKept(by, target);
  }

  private dropOldest(ring: Ring): boolean {
    if (ring.head >= ring.messages.length) return false;
    const gone = ring.messages[ring.head]!;
    ring.messages[ring.head++] = undefined as never;
    const size = approxBytes(gone);
    ring.bytes -= size;
    this.totalBytes -= size;
    ring.coveredFrom = gone.seq;
    // Compact now and then, so dropping is O(1) amortised and the array does not keep growing.
    if (ring.head > 64 && ring.head * 2 > ring.messages.length) {
      ring.messages = ring.messages.slice(ring.head);
      ring.head = 0;
    }
    return true;
  }
}
