import type { LoggedMessage } from "../chat/message.ts";
import { CLOCK_MARGIN_MS, DuplicateIndex, type DuplicateRule } from "../delivery/duplicates.ts";
import type { Backlog } from "./types.ts";

/** Backlog pages read to recall one room's window, at most (a room busier than this is rare). */
const PAGE = 500;
const MAX_PAGES = 20;

/**
 * The backlog writer's side of the duplicate rule (lib/delivery/duplicates.ts): every batch is judged
 * in log order, so history keeps the copy every fan-out delivered. A room this writer has not
 * followed without a break — its first batch here, a partition that moved here or skipped — is first
 * recalled from the backlog: the kept messages of the window before the batch, which the backlog
 * holds exactly (batches are written in order and committed only once written). Following a room
 * costs nothing more; recalling it costs a few backlog pages once.
 */
export class WriterDuplicates {
  private readonly index: DuplicateIndex;
  /** Per log (epoch): the last seq judged, to tell a batch that follows on from one after a break. */
  private readonly lastSeq = new Map<string, number>();
  /** Per log: the rooms recalled and followed since, whose kept messages the index holds. */
  private readonly followed = new Map<string, Set<string>>();

  constructor(
    private readonly backlog: Pick<Backlog, "before">,
    rule: DuplicateRule,
  ) {
    this.index = new DuplicateIndex(rule);
  }

  get dropped(): number {
    return this.index.stats.dropped;
  }

  /** The messages of `batch` to store: all but the retries' copies. */
  async keep(batch: readonly LoggedMessage[]): Promise<LoggedMessage[]> {
    const byLog = new Map<string, LoggedMessage[]>();
    for (const m of batch) {
      const list = byLog.get(m.epoch);
      if (list) list.push(m);
      else byLog.set(m.epoch, [m]);
    }
    for (const [epoch, messages] of byLog) await this.recall(epoch, messages);
    const kept = batch.filter((m) => this.index.admit(m));
    for (const [epoch, messages] of byLog) {
      const last = Math.max(...messages.map((m) => m.seq));
      this.lastSeq.set(epoch, Math.max(last, this.lastSeq.get(epoch) ?? 0));
    }
    return kept;
  }

  /** Recalls the rooms of one log's part of a batch that carry client ids and are not followed. */
  private async recall(epoch: string, messages: readonly LoggedMessage[]): Promise<void> {
    const first = Math.min(...messages.map((m) => m.seq));
    const last = this.lastSeq.get(epoch);
    let rooms = this.followed.get(epoch);
    // A batch may repeat what was judged (a retried batch): judging is the same again. A gap is a break.
    if (!rooms || last === undefined || first > last + 1 || rooms.size > 100_000) {
      rooms = new Set();
      this.followed.set(epoch, rooms);
    }
    const firstOfRoom = new Map<string, LoggedMessage>();
    for (const m of messages) {
      if (m.clientMsgId === undefined || rooms.has(m.roomId) || firstOfRoom.has(m.roomId)) continue;
      firstOfRoom.set(m.roomId, m);
    }
    for (const [roomId, m] of firstOfRoom) {
      const cutoff = Date.parse(m.sentAt) - this.index.rule.windowMs - CLOCK_MARGIN_MS;
      const stored: LoggedMessage[][] = [];
      let below = m.seq;
      for (let i = 0; i < MAX_PAGES; i++) {
        const page = await this.backlog.before(roomId, below, PAGE);
        if (page.length === 0) break;
        stored.unshift(page.map((s) => ({ ...s, epoch })));
        if (Date.parse(page[0]!.sentAt) < cutoff || page.length < PAGE) break;
        below = page[0]!.seq;
      }
      for (const s of stored.flat()) this.index.admit(s);
      rooms.add(roomId);
    }
  }
}
