/**
 * A bounded pool for expensive jobs: at most `concurrency` run at once, at most `queueLimit` wait,
 * and anything beyond that is refused at once with an estimate of when to retry — the queue never
 * grows with the load, so a rush costs a bounded amount of memory and waiting time.
 */

export class PoolBusyError extends Error {
  override readonly name = "PoolBusyError";
  constructor(
    message: string,
    /** Whole seconds after which a retry is likely to be taken. */
    readonly retryAfterSec: number,
  ) {
    super(message);
  }
}

export interface WorkPoolOptions {
  concurrency: number;
  queueLimit: number;
  /** Names the work in the refusal message. */
  what: string;
}

/**
 * A place in the pool, taken before the caller does anything else that a refusal should not cost it
 * (a rate-limit allowance): run its one job through it, or release it.
 */
export interface Reservation {
  run<T>(job: () => Promise<T>): Promise<T>;
  release(): void;
}

export class WorkPool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Reservations not yet running or released: they count against the limits like waiting jobs. */
  private reserved = 0;
  /** Moving average of a job's duration, for Retry-After; 0 until the first job ends. */
  private avgMs = 0;

  constructor(private readonly opts: WorkPoolOptions) {}

  /** Jobs running, waiting and reserved now. */
  get load(): { running: number; waiting: number; reserved: number } {
    return { running: this.running, waiting: this.waiting.length, reserved: this.reserved };
  }

  /** Takes a place, or throws PoolBusyError at once when every place is taken. */
  reserve(): Reservation {
    const held = this.running + this.waiting.length + this.reserved;
    if (held >= this.opts.concurrency + this.opts.queueLimit) {
      throw new PoolBusyError(`too many ${this.opts.what} waiting; retry later`, this.retryAfterSec());
    }
    this.reserved++;
    let open = true;
    const release = () => {
      if (!open) return false;
      open = false;
      this.reserved--;
      return true;
    };
    return {
      run: (job) => {
        if (!release()) return Promise.reject(new Error("reservation already used"));
        return this.enqueue(job);
      },
      release: () => {
        // A place given back may be what a waiting job needs no more than a new one: nothing to wake.
        release();
      },
    };
  }

  /** Runs `job` when a slot is free; rejects with PoolBusyError at once when the pool is full. */
  run<T>(job: () => Promise<T>): Promise<T> {
    try {
      return this.reserve().run(job);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** When a job arriving now would likely start: everything ahead of it, spread over the slots. */
  retryAfterSec(): number {
    const ahead = this.waiting.length + this.reserved + this.running;
    return Math.max(1, Math.ceil((ahead * this.avgMs) / this.opts.concurrency / 1000));
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    if (this.running < this.opts.concurrency) return this.start(job);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => this.start(job).then(resolve, reject));
    });
  }

  private async start<T>(job: () => Promise<T>): Promise<T> {
    this.running++;
    const t0 = performance.now();
    try {
      return await job();
    } finally {
      const ms = performance.now() - t0;
      this.avgMs = this.avgMs === 0 ? ms : this.avgMs * 0.8 + ms * 0.2;
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
