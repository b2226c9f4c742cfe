import { withTimeout } from "../async/timeout.ts";
import { BusUnavailableError } from "./types.ts";

/** High watermark (the next offset to be written) per partition of one topic. */
export type HighWatermarks = Map<number, number>;

/**
 * How far a live reader has handed records to its subscribers, per partition, and waiting until it
 * has reached what was written before a given moment. A reader starts at the partitions' ends: offsets
 * before its start count as handed over (nothing earlier is owed to its subscribers).
 *
 * Watermark lookups are coalesced: a caller never reuses a lookup that was already on the wire when it
 * asked (it could predate the caller's moment), but every caller arriving meanwhile shares the next
 * one, so a reconnect storm costs two lookups in flight, not one per subscription.
 */
export class ReaderProgress {
  /** Highest offset handed over (or skipped as before the start) per partition. */
  private readonly through = new Map<number, number>();
  private readonly waiters = new Set<{ partition: number; offset: number; done: () => void }>();
  private inFlight: Promise<HighWatermarks> | undefined;
  private queued: Promise<HighWatermarks> | undefined;

  constructor(private readonly lookup: () => Promise<HighWatermarks>) {}

  /** The reader starts at these offsets (next to read, per partition): nothing before them is owed. */
  startAt(offsets: ReadonlyMap<number, number>): void {
    for (const [partition, next] of offsets) this.advance(partition, next - 1);
  }

  /** Resolves once `offset` of `partition` has been handed over; rejects after timeoutMs. */
  reach(partition: number, offset: number, timeoutMs: number): Promise<void> {
    if (offset <= (this.through.get(partition) ?? -1)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = { partition, offset, done: resolve };
      this.waiters.add(waiter);
      setTimeout(() => {
        if (this.waiters.delete(waiter)) reject(new BusUnavailableError("bus reader is behind"));
      }, timeoutMs);
    });
  }

  /** The reader handed `offset` of `partition` to its subscribers. */
  advance(partition: number, offset: number): void {
    if (offset <= (this.through.get(partition) ?? -1)) return;
    this.through.set(partition, offset);
    for (const w of this.waiters) {
      if (w.partition === partition && w.offset <= offset) {
        this.waiters.delete(w);
        w.done();
      }
    }
  }

  /** Resolves once every record written to `partition` before this call has been handed over. */
  async caughtUp(partition: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const hw = await withTimeout(
      this.watermarks(),
      timeoutMs,
      () => new BusUnavailableError("bus did not answer in time"),
    );
    await this.reach(partition, (hw.get(partition) ?? 0) - 1, Math.max(0, deadline - performance.now()));
  }

  private watermarks(): Promise<HighWatermarks> {
    if (!this.inFlight) return this.fetch();
    this.queued ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.fetch();
      });
    return this.queued;
  }

  private fetch(): Promise<HighWatermarks> {
    const current = this.lookup().finally(() => {
      if (this.inFlight === current) this.inFlight = undefined;
    });
    this.inFlight = current;
    return current;
  }
}
