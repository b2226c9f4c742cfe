export interface PageSizeOptions {
  initial: number;
  min: number;
  max: number;
  /** What one page read should take, so a replay holds its read turn (ReplayGate) only briefly. */
  targetMs: number;
}

/**
 * The size of a replay's next backlog page: doubled after a full page read in under half of
 * `targetMs`, halved after one that took over twice it — but only while halving pays. On a backend
 * whose query has a large fixed cost (FerretDB reads a directory and decodes every document per
 * page), half a page takes nearly as long as a whole one and only multiplies queries: once a halved
 * full page costs half as much again per message, the larger size (at most the initial one) is kept
 * for the rest of the replay.
 */
export class PageSizer {
  private size: number;
  private floor: number;
  private last: { size: number; perMessage: number } | undefined;

  constructor(private readonly o: PageSizeOptions) {
    this.size = o.initial;
    this.floor = o.min;
  }

  get next(): number {
    return this.size;
  }

  /** A page that asked for `asked` messages returned `got` of them in `tookMs`. */
  record(asked: number, got: number, tookMs: number): void {
    const full = got === asked;
    if (full) {
      const perMessage = tookMs / asked;
      const previous = this.last;
      this.last = { size: asked, perMessage };
      if (previous && asked < previous.size && perMessage > previous.perMessage * 1.5) {
        // Never above the initial size: a page read may block the event loop (bun:sqlite is
        // synchronous), and one slow sample on a busy machine must not pin large pages.
        this.floor = Math.min(this.o.initial, previous.size);
        this.size = this.floor;
        return;
      }
    }
    if (full && tookMs < this.o.targetMs / 2) this.size = Math.min(this.o.max, asked * 2);
    else if (tookMs > this.o.targetMs * 2) this.size = Math.max(this.floor, Math.floor(asked / 2));
  }
}
