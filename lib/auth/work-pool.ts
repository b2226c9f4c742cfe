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

interface Waiting {
  start(): void;
}

export class WorkPool {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  /** Moving average of a job's duration, for Retry-After; 0 until the first job ends. */
  private avgMs = 0;

  constructor(private readonly opts: WorkPoolOptions) {}

  /** Jobs running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `job` when a slot is free; rejects with PoolBusyError at once when the queue is full. */
  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running < this.opts.concurrency) return this.start(job);
    if (this.waiting.length >= this.opts.queueLimit) {
      return Promise.reject(
        new PoolBusyError(`too many ${this.opts.what} waiting; retry later`, this.retryAfterSec()),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ start: () => this.start(job).then(resolve, reject) });
    });
  }

  /** When a job arriving now would likely start: everything ahead of it, spread over the slots. */
  retryAfterSec(): number {
    const ahead = this.waiting.length + this.running;
    return Math.max(1, Math.ceil((ahead * this.avgMs) / this.opts.concurrency / 1000));
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
      this.waiting.shift()?.start();
    }
  }
}
