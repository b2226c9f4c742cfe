import type { Database, Statement } from "bun:sqlite";

/** Most expired rows one pass of the timer deletes (a transaction of its own: ~1 ms here). */
const TIMER_CHUNK = 1_000;
/** A group commit also deletes up to this many expired rows, plus twice what it appends. */
const COMMIT_CHUNK = 16;

/**
 * The embedded log's retention. Kafka drops old segments by its retention settings; this log would
 * otherwise keep every message forever beside the backlog (~0.5 KB each, a second copy of the
 * history). A row goes once it is older than the retention (by its sentAt) and every consumer group
 * has committed past it (the backlog writer: nothing it has not stored is lost). The deletes ride on
 * the group commits — up to twice as many rows as each appends, so they keep pace with any rate
 * without a transaction of their own — and a timer clears what is left when traffic is low. Freed
 * pages are reused by later appends: the file stops growing rather than shrinking. The last message
 * always stays: it is where the next seq comes from.
 */
export class LogRetention {
  private readonly slowestGroup: Statement<{ seq: number | null }, []>;
  private readonly deleteBelow: Statement;
  /** The lowest seq that may still be in the log. */
  private floor: number;
  /** Rows below this seq may be deleted (set by refresh()). */
  private deletableBelow = 0;

  constructor(
    db: Database,
    /** How long a message stays at least; > 0. */
    private readonly retentionMs: number,
    /** The first seq sent at or after an ISO time, up to the log's end `end` (binary search). */
    private readonly firstSeqSentSince: (cutoff: string, end: number) => number,
    /** The log's last seq (0 when empty). */
    private readonly lastSeq: () => number,
  ) {
    this.slowestGroup = db.prepare("SELECT MIN(seq) AS seq FROM consumer_offsets");
    this.deleteBelow = db.prepare("DELETE FROM log WHERE seq < ?");
    this.floor = db.query<{ seq: number | null }, []>("SELECT MIN(seq) AS seq FROM log").get()?.seq ?? 0;
  }

  /** Works out what has expired and been consumed by every group: a few indexed reads. */
  refresh(now = Date.now()): void {
    const last = this.lastSeq();
    const expiredBelow = this.firstSeqSentSince(new Date(now - this.retentionMs).toISOString(), last);
    // No group has committed yet (a backlog writer that never got a batch through): nothing is known
    // to be stored, so nothing goes.
    const consumed = this.slowestGroup.get()?.seq;
    // The last row stays, however old: a log without AUTOINCREMENT would give its seq out again.
    this.deletableBelow = consumed == null ? 0 : Math.min(expiredBelow, consumed + 1, last);
  }

  /** Whether expired rows are waiting to be deleted. */
  get pending(): boolean {
    return this.floor < this.deletableBelow;
  }

  /** Deletes up to `max` expired rows, oldest first, in the caller's transaction (or its own). */
  deleteSome(max: number): void {
    if (!this.pending) return;
    const below = Math.min(this.deletableBelow, this.floor + max);
    this.deleteBelow.run(below);
    this.floor = below;
  }

  /** What a group commit of `appended` messages deletes with it. */
  static commitShare(appended: number): number {
    return 2 * appended + COMMIT_CHUNK;
  }

  static readonly TIMER_CHUNK = TIMER_CHUNK;
}
