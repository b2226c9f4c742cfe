import type { ChatMessage } from "../../../../lib/chat/message.ts";
import { Store } from "./store.ts";

/**
 * A message as the client shows it. `editedAt` and `deleted` are the seams for edit and delete
 * (chat-features issue): the server sends neither yet, so they are never set today.
 */
export interface TimelineMessage extends ChatMessage {
  editedAt?: string;
  deleted?: boolean;
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
  /** Seq of the first live (not replayed) message: from there on, nothing counts as unread-at-open. */
  private liveFrom = Number.POSITIVE_INFINITY;

  constructor(
    roomId: string,
    /** The read position and unread count when the room was opened. */
    private readonly readPosition: number,
    private readonly unreadAtOpen: number,
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

  get maxSeq(): number {
    const m = this.state.get().messages;
    return m.length ? m[m.length - 1]!.seq : 0;
  }

  get minSeq(): number {
    return this.state.get().messages[0]?.seq ?? 0;
  }

  /** The first pages, loaded when the room opens. */
  setInitial(messages: ChatMessage[], hasOlder: boolean): void {
    const fresh = this.unseen(messages);
    this.commit((s) => {
      const messages = [...s.messages, ...fresh].sort((a, b) => a.seq - b.seq);
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
      const messages = [...fresh, ...s.messages];
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
    this.seqs.add(m.seq);
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
   * Before the first message after the read position, if it was there when the room opened (not a
   * live one) and is known to be the first: something at or before the read position is loaded, or
   * the start of the room's history is.
   */
  private divider(s: TimelineState): number | null {
    if (this.unreadAtOpen <= 0) return null;
    const first = s.messages.find((m) => m.seq > this.readPosition);
    if (!first || first.seq >= this.liveFrom) return null;
    const anchored = s.messages[0]!.seq <= this.readPosition || !s.hasOlder;
    return anchored ? first.seq : null;
  }

  private unseen(messages: ChatMessage[]): ChatMessage[] {
    const fresh = messages.filter((m) => !this.seqs.has(m.seq));
    for (const m of fresh) this.seqs.add(m.seq);
    return fresh.sort((a, b) => a.seq - b.seq);
  }
}

const hiddenFor = (messages: ChatMessage[], hasOlder: boolean) => (hasOlder && messages.length > 1 ? 1 : 0);
