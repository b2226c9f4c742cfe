import { unreadFor } from "../../../../lib/chat/unread.ts";
import type { ChatMessage } from "./api.ts";
import { Store } from "./store.ts";

/**
 * A line as the client shows it: a message (in its current state: `editedAt` once edited, `deletedAt`
 * and no text once deleted) or a join/leave/update line. Edit and delete lines are not shown: they
 * change the message they target.
 */
export type TimelineMessage = ChatMessage;

const isAmendment = (m: ChatMessage) => m.type === "edit" || m.type === "delete";

/** A message after an edit or delete line: the same object when the line changes nothing. */
export function amend(target: ChatMessage, line: ChatMessage): ChatMessage {
  if (target.type !== "message" || target.deletedAt) return target;
  if (line.type === "delete") return { ...target, text: "", deletedAt: line.sentAt };
  if (line.type !== "edit" || (target.editedAt && target.editedAt > line.sentAt)) return target;
  if (target.text === line.text && target.editedAt === line.sentAt) return target;
  return { ...target, text: line.text, editedAt: line.sentAt };
}

export interface TimelineState {
  roomId: string;
  /** Sorted by seq, each seq once. */
  messages: TimelineMessage[];
  /**
   * How many of the oldest messages are loaded but not shown (0 or 1). While there is older
   * history, the oldest loaded message is held back: it is only the "row above" of the first shown
   * one, so that row's date separator and sender header are right from the start and never change
   * when the next page arrives — a row that changed height above the screen would make it jump.
   */
  hidden: number;
  /** Virtuoso's index of the first shown message: lowered by the number of rows prepended. */
  firstItemIndex: number;
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: string | null;
  /**
   * The first message that was unread when the room was opened: the divider goes before it. Null
   * when nothing was unread, or while that message is not loaded yet (further up the history).
   */
  dividerSeq: number | null;
  status: "loading" | "ready" | "error";
  error: string | null;
}

/** Far from 0, so that prepending never makes Virtuoso's first index negative. */
export const FIRST_INDEX = 10_000_000;

/**
 * The open room's messages: one contiguous run of the room's history, grown downwards by live and
 * replayed messages and upwards by pages of older history.
 */
export class Timeline {
  readonly state: Store<TimelineState>;
  private seqs = new Set<number>();
  /** The lowest and highest seq of every line received, shown or not (edit and delete lines too). */
  private lowest = 0;
  private highest = 0;
  /** Seq of the first live (not replayed) message: from there on, nothing counts as unread-at-open. */
  private liveFrom = Number.POSITIVE_INFINITY;

  constructor(
    roomId: string,
    /** The read position and unread count when the room was opened. */
    private readonly readPosition: number,
    private readonly unreadAtOpen: number,
    /** Who reads: the divider goes by the rule the unread count went by (unreadFor). */
    private readonly reader: string,
  ) {
    this.state = new Store<TimelineState>({
      roomId,
      messages: [],
      hidden: 0,
      firstItemIndex: FIRST_INDEX,
      hasOlder: true,
      loadingOlder: false,
      olderError: null,
      dividerSeq: null,
      status: "loading",
      error: null,
    });
  }

  /** Where the room's stream continues from (x-since-seq): amendment lines count, they were received. */
  get maxSeq(): number {
    return this.highest;
  }

  /** Where older pages continue from. */
  get minSeq(): number {
    return this.lowest;
  }

  /** The first pages, loaded when the room opens. */
  setInitial(messages: ChatMessage[], hasOlder: boolean): void {
    const fresh = this.unseen(messages);
    this.commit((s) => {
      const messages = applyAmendments([...s.messages, ...fresh].sort((a, b) => a.seq - b.seq));
      return {
        ...s,
        messages,
        hidden: hiddenFor(messages, hasOlder),
        hasOlder,
        status: "ready",
        error: null,
      };
    });
  }

  failed(error: string): void {
    this.state.update((s) => ({ ...s, status: "error", error }));
  }

  /** A page of older history (all below minSeq). */
  prepend(messages: ChatMessage[], hasOlder: boolean): void {
    const min = this.minSeq;
    const fresh = this.unseen(messages.filter((m) => min === 0 || m.seq < min));
    this.commit((s) => {
      const messages = applyAmendments([...fresh, ...s.messages]);
      const hidden = hiddenFor(messages, hasOlder);
      const shownBefore = s.messages.length - s.hidden;
      const shownNow = messages.length - hidden;
      return {
        ...s,
        messages,
        hidden,
        firstItemIndex: s.firstItemIndex - (shownNow - shownBefore),
        hasOlder,
        loadingOlder: false,
        olderError: null,
      };
    });
  }

  loadingOlder(on: boolean, error: string | null = null): void {
    this.state.update((s) => ({ ...s, loadingOlder: on, olderError: error }));
  }

  /** A message from the subscription; `replay` for the missed ones it sends first. False for a duplicate. */
  add(m: ChatMessage, replay: boolean): boolean {
    if (this.seqs.has(m.seq)) return false;
    this.track(m.seq);
    if (isAmendment(m)) {
      this.state.update((s) => {
        const i = s.messages.findIndex((x) => x.seq === m.target?.seq);
        if (i < 0) return s;
        const changed = amend(s.messages[i]!, m);
        if (changed === s.messages[i]) return s;
        const messages = s.messages.slice();
        messages[i] = changed;
        return { ...s, messages };
      });
      return true;
    }
    if (!replay && this.liveFrom === Number.POSITIVE_INFINITY) this.liveFrom = m.seq;
    this.commit((s) => {
      const last = s.messages[s.messages.length - 1];
      const messages =
        !last || m.seq > last.seq ? [...s.messages, m] : [...s.messages, m].sort((a, b) => a.seq - b.seq);
      return { ...s, messages };
    });
    return true;
  }

  private commit(change: (s: TimelineState) => TimelineState): void {
    this.state.update((s) => {
      const next = change(s);
      const dividerSeq = this.divider(next);
      return dividerSeq === next.dividerSeq ? next : { ...next, dividerSeq };
    });
  }

  /**
   * Before the first unread message after the read position — by the rule the room's unread count
   * went by, so never above a join line or one's own message — if it was there when the room opened
   * (not a live one) and is known to be the first: something at or before the read position is
   * loaded, or the start of the room's history is.
   */
  private divider(s: TimelineState): number | null {
    if (this.unreadAtOpen <= 0) return null;
    const first = s.messages.find((m) => m.seq > this.readPosition && unreadFor(m, this.reader));
    if (!first || first.seq >= this.liveFrom) return null;
    const anchored = s.messages[0]!.seq <= this.readPosition || !s.hasOlder;
    return anchored ? first.seq : null;
  }

  private track(seq: number): void {
    this.seqs.add(seq);
    if (this.lowest === 0 || seq < this.lowest) this.lowest = seq;
    if (seq > this.highest) this.highest = seq;
  }

  private unseen(messages: ChatMessage[]): ChatMessage[] {
    const fresh = messages.filter((m) => !this.seqs.has(m.seq));
    for (const m of fresh) this.track(m.seq);
    return fresh.sort((a, b) => a.seq - b.seq);
  }
}

/**
 * Lines sorted by seq with the edit and delete lines among them applied to their targets and taken
 * out. History already holds each message in its current state, so this matters only for lines that
 * arrived in one batch with their target (a replay, a page): applying them again changes nothing.
 */
function applyAmendments(lines: ChatMessage[]): ChatMessage[] {
  if (!lines.some(isAmendment)) return lines;
  const out: ChatMessage[] = [];
  const at = new Map<number, number>();
  for (const m of lines) {
    if (!isAmendment(m)) {
      at.set(m.seq, out.length);
      out.push(m);
      continue;
    }
    const i = m.target ? at.get(m.target.seq) : undefined;
    if (i !== undefined) out[i] = amend(out[i]!, m);
  }
  return out;
}

const hiddenFor = (messages: ChatMessage[], hasOlder: boolean) => (hasOlder && messages.length > 1 ? 1 : 0);
