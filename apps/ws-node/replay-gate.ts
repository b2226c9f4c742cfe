/** How much replay work one node takes on, and how much of it one member may start. */
export interface ReplayLimits {
  /** Backlog pages being read at once on the node; more wait their turn, first come first served. */
  concurrency: number;
  /** Replays in progress (from SUBSCRIBE until live) per connection; more are refused. */
  perConnection: number;
  /** The same per user, over all of the user's connections to this node. */
  perUser: number;
  /**
   * Replay bytes per second per user, over all of the user's replays on this node, after a first
   * `burstBytes` at once: a member who asks for a long history again and again gets it at this pace,
   * whatever their client can read, and cannot make the node spend its CPU (and heap) on them.
   */
  userBytesPerSec: number;
  burstBytes: number;
}

/** Counters and gauges for metrics. */
export interface ReplayGateStats {
  /** Backlog page reads running now, and waiting for their turn. */
  running: number;
  waiting: number;
  /** Replays refused for a per-connection or per-user limit. */
  refused: number;
}

/** One replay's place: held from SUBSCRIBE until the replay ends. */
export interface ReplayTicket {
  /** Runs one backlog read in its turn: at most `concurrency` at once over the node, in arrival order. */
  read<T>(fn: () => Promise<T>): Promise<T>;
  /** Charges bytes sent to the user's pace; resolves when the next may go (undefined: at once). */
  spend(bytes: number): Promise<void> | undefined;
  /** The replay is over (or never started); idempotent. */
  done(): void;
}

/**
 * Bounds replay work and keeps it fair. Each backlog page queues on its own, so concurrent replays
 * take turns page by page in arrival order and a member with many replays cannot hold the store for
 * everyone else; a replay never holds a turn while it waits on its client. Replays from memory need
 * no turn, but count towards the per-connection and per-user limits like any other.
 */
export class ReplayGate {
  readonly stats: ReplayGateStats = { running: 0, waiting: 0, refused: 0 };
  private readonly queue: (() => void)[] = [];
  private readonly byConnection = new Map<string, number>();
  private readonly byUser = new Map<string, number>();
  /** Per user with replays in progress: when its pace allows the next byte (ms, performance.now()). */
  private readonly paceOf = new Map<string, { readyAt: number }>();
  private sliceStart = 0;

  constructor(
    readonly limits: ReplayLimits,
    /** Replay sending over all replays, in ms, before the event loop gets a turn. */
    private readonly sliceMs = 2,
  ) {}

  /**
   * Called between messages a replay sends. All replays together send for at most one slice per
   * turn of the event loop; past it, the returned promise resolves on the loop's next turn. So
   * however many replays run and however fast their clients read, live messages, SENDs and health
   * probes wait for at most one slice (a replay never needs this to be correct, only to be fair).
   */
  pace(): Promise<void> | undefined {
    if (performance.now() - this.sliceStart < this.sliceMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        // The first replay back on this turn starts the next slice; the others share it.
        if (performance.now() - this.sliceStart >= this.sliceMs) this.sliceStart = performance.now();
        resolve();
      }),
    );
  }

  /** A ticket for a new replay, or the limit it would pass ("connection" or "user"). */
  admit(connectionId: string, userId: string): ReplayTicket | "connection" | "user" {
    const onConnection = this.byConnection.get(connectionId) ?? 0;
    const ofUser = this.byUser.get(userId) ?? 0;
    if (onConnection >= this.limits.perConnection || ofUser >= this.limits.perUser) {
      this.stats.refused++;
      return onConnection >= this.limits.perConnection ? "connection" : "user";
    }
    this.byConnection.set(connectionId, onConnection + 1);
    this.byUser.set(userId, ofUser + 1);
    let pace = this.paceOf.get(userId);
    if (!pace) {
      pace = { readyAt: 0 };
      this.paceOf.set(userId, pace);
    }
    const user = pace;
    let over = false;
    return {
      read: (fn) => this.inTurn(fn),
      spend: (bytes) => this.spend(user, bytes),
      done: () => {
        if (over) return;
        over = true;
        decrement(this.byConnection, connectionId);
        if (decrement(this.byUser, userId) === 0) this.paceOf.delete(userId);
      },
    };
  }

  /** A leaky bucket per user: each byte moves its ready time on by 1/rate; up to a burst ahead is free. */
  private spend(user: { readyAt: number }, bytes: number): Promise<void> | undefined {
    const { userBytesPerSec, burstBytes } = this.limits;
    const now = performance.now();
    user.readyAt = Math.max(user.readyAt, now) + (bytes / userBytesPerSec) * 1000;
    const wait = user.readyAt - now - (burstBytes / userBytesPerSec) * 1000;
    return wait > 0 ? Bun.sleep(wait) : undefined;
  }

  private async inTurn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.stats.running >= this.limits.concurrency) {
      this.stats.waiting++;
      await new Promise<void>((resolve) => this.queue.push(resolve));
      this.stats.waiting--;
    } else {
      this.stats.running++;
    }
    try {
      return await fn();
    } finally {
      // The turn passes straight to the next in line (running stays the same), else it is freed.
      const next = this.queue.shift();
      if (next) next();
      else this.stats.running--;
    }
  }
}

function decrement(counts: Map<string, number>, key: string): number {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
  return Math.max(0, n);
}
