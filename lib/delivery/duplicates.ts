import type { ChatMessage } from "../chat/message.ts";
import { RecencyMap } from "../collections/recency-map.ts";

/**
 * The rule that makes a SEND idempotent, applied identically by every reader of the log (each
 * ws-node's fan-out, the backlog writer) so they all keep the same copy:
 *
 *   A message with a client message id is a retry's copy — dropped — when a message with the same
 *   (room, sender, client message id) was kept earlier in the room's log and was accepted (`sentAt`)
 *   no more than the window before it. Otherwise it is kept.
 *
 * First in log order wins, and a decision depends only on the log (each message's own fields), not on
 * when or where it is read. A reader needs the room's kept messages of the window before each message
 * it judges: a fan-out reader reads that much of the log's past when it starts (twice the window, so
 * a chain of retries across its start is judged as the others judge it), the backlog writer reads it
 * from the backlog, which holds exactly the kept messages before its batch.
 */
export interface DuplicateRule {
  /** How long after a kept copy a retry of it is still recognised, by `sentAt`. */
  windowMs: number;
  /** Most client message ids remembered; past it the oldest go early (counted in `evictedEarly`). */
  maxKeys: number;
}

/** The defaults of SEND_DEDUP_WINDOW_SEC and SEND_DEDUP_MAX_KEYS (lib/config/schema.ts). */
export const DEFAULT_DUPLICATE_RULE: DuplicateRule = { windowMs: 300_000, maxKeys: 100_000 };

/** Spare time kept beyond the window, for clocks of different nodes that disagree a little. */
export const CLOCK_MARGIN_MS = 60_000;

/** The log's past a fan-out reader must read when it starts (see DuplicateRule). */
export const pastToRead = (rule: DuplicateRule): number => 2 * rule.windowMs + CLOCK_MARGIN_MS;

/** A client message as one key: room, sender and the sender's id for it. */
export function duplicateKey(roomId: string, senderId: string, clientMsgId: string): string {
  return `${roomId}\u0000${senderId}\u0000${clientMsgId}`;
}

interface Kept {
  seq: number;
  sentAtMs: number;
  /** Highest seq judged under this key: a copy at or below it has been decided. */
  judged: number;
}

interface Waiter {
  seq: number;
  done: (keptSeq: number | undefined) => void;
}

export interface DuplicateStats {
  /** Copies dropped as retries of a kept message. */
  dropped: number;
  /** Keys forgotten before the window had passed, for lack of room. */
  evictedEarly: number;
}

/** The kept copies of client messages within the window, as one reader has judged the log so far. */
export class DuplicateIndex {
  readonly stats: DuplicateStats = { dropped: 0, evictedEarly: 0 };
  /**
   * Kept order is (nearly) sentAt order: pruning takes from the least recent end. A RecencyMap, not a
   * Map walked from the front: with Bun's Map, each message cost more the more keys were held
   * (4.9 us at 1,000, 41.8 us at 100,000; 3.3 us at 100,000 now).
   */
  private readonly kept = new RecencyMap<string, Kept>();
  private readonly waiters = new Map<string, Waiter[]>();
  private newestMs = 0;

  constructor(readonly rule: DuplicateRule) {}

  get size(): number {
    return this.kept.size;
  }

  /**
   * Judges a message in log order: true to keep it (deliver, store), false for a retry's copy. A
   * message judged again (a redelivered batch) gets the same answer.
   */
  admit(m: ChatMessage): boolean {
    const id = m.clientMsgId;
    if (id === undefined || id === null) return true;
    const key = duplicateKey(m.roomId, m.sender.id, id);
    const sentAtMs = Date.parse(m.sentAt);
    const prior = this.kept.get(key);
    // Older than the kept copy: only a reader loading stored (so kept) messages sees that.
    if (prior && prior.seq > m.seq) return true;
    let keep: boolean;
    if (prior && (prior.seq === m.seq || sentAtMs - prior.sentAtMs <= this.rule.windowMs)) {
      keep = prior.seq === m.seq;
      if (!keep) this.stats.dropped++;
      prior.judged = Math.max(prior.judged, m.seq);
    } else {
      keep = true;
      this.kept.set(key, { seq: m.seq, sentAtMs, judged: m.seq }); // now the newest: its place in sentAt order
    }
    if (sentAtMs > this.newestMs) this.newestMs = sentAtMs;
    this.prune();
    this.wake(key, m.seq);
    return keep;
  }

  /** The seq of the kept copy of a client message sent now, if a retry of it would be dropped. */
  lookup(roomId: string, senderId: string, clientMsgId: string, nowMs = Date.now()): number | undefined {
    const prior = this.kept.get(duplicateKey(roomId, senderId, clientMsgId));
    return prior && nowMs - prior.sentAtMs <= this.rule.windowMs ? prior.seq : undefined;
  }

  /**
   * Resolves once this reader has judged the copy at `seq` (one the caller appended), with the seq of
   * the copy that is kept — `seq` itself, or an earlier copy's; undefined if it is not judged within
   * `timeoutMs` (the reader is behind).
   */
  settle(roomId: string, senderId: string, clientMsgId: string, seq: number, timeoutMs: number) {
    const key = duplicateKey(roomId, senderId, clientMsgId);
    const prior = this.kept.get(key);
    if (prior && prior.judged >= seq) return Promise.resolve(prior.seq <= seq ? prior.seq : undefined);
    return new Promise<number | undefined>((resolve) => {
      const waiter: Waiter = {
        seq,
        done: (kept) => {
          clearTimeout(timer);
          resolve(kept);
        },
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(key);
        const at = list?.indexOf(waiter) ?? -1;
        if (at >= 0) list!.splice(at, 1);
        if (list?.length === 0) this.waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      const list = this.waiters.get(key);
      if (list) list.push(waiter);
      else this.waiters.set(key, [waiter]);
    });
  }

  private wake(key: string, seq: number): void {
    const list = this.waiters.get(key);
    if (!list) return;
    const kept = this.kept.get(key)?.seq;
    const remaining = list.filter((w) => {
      if (w.seq > seq) return true;
      w.done(kept !== undefined && kept <= w.seq ? kept : undefined);
      return false;
    });
    if (remaining.length > 0) this.waiters.set(key, remaining);
    else this.waiters.delete(key);
  }

  /** Forgets kept copies too old to match anything still to come, and the oldest beyond maxKeys. */
  private prune(): void {
    const horizon = this.newestMs - this.rule.windowMs - CLOCK_MARGIN_MS;
    for (let oldest = this.kept.leastRecent(); oldest; oldest = this.kept.leastRecent()) {
      const [key, k] = oldest;
      if (k.sentAtMs < horizon) this.kept.delete(key);
      else if (this.kept.size > this.rule.maxKeys) {
        this.kept.delete(key);
        this.stats.evictedEarly++;
      } else break;
    }
  }
}
