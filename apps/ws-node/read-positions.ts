import { errorFields, type Logger } from "../../lib/log/index.ts";
import type { RoomStore } from "../../lib/store/types.ts";

/**
 * Read positions change on every delivery; writing each one would hammer the store. Positions are
 * coalesced per (room, user) and written in one statement per interval; only forward moves are kept.
 */
export class ReadPositionWriter {
  private pending = new Map<string, { roomId: string; userId: string; seq: number }>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private flushing: Promise<boolean> | undefined;

  constructor(
    private readonly rooms: RoomStore,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    /** Told of the positions each pass saved (read receipts, live unread counts). */
    private readonly onSaved: (saved: { roomId: string; userId: string; seq: number }[]) => void = () => {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
  }

  advance(roomId: string, userId: string, seq: number): void {
    const key = `${roomId}\u0000${userId}`;
    const cur = this.pending.get(key);
    if (!cur) this.pending.set(key, { roomId, userId, seq });
    else if (seq > cur.seq) cur.seq = seq;
  }

  /**
   * Resolves once everything pending at the call has been written: true, or false when the store
   * refused (those positions are queued again). A pass already under way may have taken its batch
   * before the caller's positions, so it is waited for and one more pass runs; concurrent callers
   * share passes.
   */
  async flush(): Promise<boolean> {
    if (this.flushing) await this.flushing;
    if (!this.flushing) {
      const pass: Promise<boolean> = this.write().finally(() => {
        if (this.flushing === pass) this.flushing = undefined;
      });
      this.flushing = pass;
    }
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.pending.size > 0) await this.write();
  }

  private async write(): Promise<boolean> {
    if (this.pending.size === 0) return true;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      // One statement (per chunk) in one transaction, not one UPDATE per (room, user): at a thousand
      // members a pass of single UPDATEs held the event loop for 15–20 ms once a second.
      await this.rooms.advanceReadPositions(batch);
    } catch (err) {
      for (const p of batch) this.advance(p.roomId, p.userId, p.seq); // retried on the next pass
      this.log("warn", "read positions not saved; will retry", { failed: batch.length, ...errorFields(err) });
      return false;
    }
    this.onSaved(batch);
    return true;
  }
}
