/**
 * Heart-beats for a consumer group member while its batch handler runs.
 *
 * kafkajs sends heartbeats only between batches (or when the handler calls `heartbeat()`), so a
 * handler slower than the session timeout — a backlog write that takes long under load, or one retried
 * while the database is down — gets the member dropped from its group: its commit is refused, the
 * partition goes to another member, which fetches the same batch and may be dropped the same way.
 * That is how every backlog writer of a cluster once fell out of its group at once and the history
 * fell thousands of messages behind. This beats on a timer instead, and notices when the group is
 * rebalancing or has dropped the member, so the handler can stop at the next chunk and let kafkajs
 * rejoin at once.
 */

/** Heartbeat errors that mean "stop and rejoin": a rebalance, or the group no longer knows us. */
const MUST_REJOIN = new Set([
  "REBALANCE_IN_PROGRESS",
  "NOT_COORDINATOR_FOR_GROUP",
  "ILLEGAL_GENERATION",
  "UNKNOWN_MEMBER_ID",
]);

export class HeartbeatKeeper {
  private readonly timer: ReturnType<typeof setInterval>;
  private beating = false;
  /** Set when a heartbeat said the member must rejoin; rethrow it so kafkajs rejoins. */
  rejoin: Error | undefined;

  constructor(
    private readonly heartbeat: () => Promise<void>,
    everyMs: number,
  ) {
    this.timer = setInterval(() => void this.beat(), everyMs);
  }

  /** True once the member must stop working on its batch. */
  get mustStop(): boolean {
    return this.rejoin !== undefined;
  }

  async beat(): Promise<void> {
    if (this.beating || this.rejoin) return;
    this.beating = true;
    try {
      await this.heartbeat();
    } catch (err) {
      // Broker unreachable and the like: the next beat tries again; the commit will tell if it is too late.
      if (MUST_REJOIN.has((err as { type?: string }).type ?? "")) this.rejoin = err as Error;
    } finally {
      this.beating = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** `items` in consecutive slices of at most `size`. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
