import type { ChatMessage } from "./api.ts";
import { backoffDelay } from "./backoff.ts";
import { describeSendRefusal, transientRefusals } from "./errors.ts";
import { uuid } from "./ids.ts";
import { Store } from "./store.ts";

/**
 * queued: waiting its turn (or for the connection, or a rate limit); sending: a SEND is out, no
 * answer yet; sent: stored by the server (RECEIPT), its copy not back yet; failed: refused for good
 * or retried too often — the user decides (retry or discard). Nothing leaves the outbox silently.
 */
export type OutboxState = "queued" | "sending" | "sent" | "failed";

export interface OutboxItem {
  /** The client message id, sent as `x-client-msg-id`; a retry keeps it. */
  id: string;
  roomId: string;
  text: string;
  state: OutboxState;
  /** Highest seq of the room known when queued: this message's own copy comes back with a higher one. */
  afterSeq: number;
  createdAt: string;
  /** Failed attempts that count towards giving up (rate limits do not). */
  attempts: number;
  /** Why it waits or failed, in words. */
  note?: string;
  /** Not before this time (ms since the epoch): a rate limit or a backoff. */
  notBefore?: number;
  /** A SEND went out and its outcome is unknown (connection lost, no answer): it may already be stored. */
  uncertain?: boolean;
}

export interface OutboxTransport {
  /** Sends the SEND frame (with `receipt` and `x-client-msg-id`); false when not connected. */
  send(item: OutboxItem, receiptId: string): boolean;
}

export interface OutboxClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const CLIENT_MSG_ID_HEADER = "x-client-msg-id";
/** Unavailable / no answer: retried this often with backoff before it is shown as failed. */
const MAX_ATTEMPTS = 5;
const ANSWER_TIMEOUT_MS = 15_000;
/** After a reconnect, a message whose fate is unknown waits this long for its copy in the replay. */
const UNCERTAIN_WAIT_MS = 1_500;

/** Whether a SEND of this entry may have reached the server (only then can a copy come back). */
const wentOut = (i: OutboxItem) => i.state === "sending" || i.state === "sent" || i.uncertain === true;

const browserClock: OutboxClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Messages on their way out, one at a time and in order: the next SEND goes only when the previous
 * one was answered (RECEIPT or refusal), so a rate-limited message is never overtaken. Kept in
 * localStorage, so a reload or a crash does not lose what was typed.
 */
export class Outbox {
  readonly items = new Store<OutboxItem[]>([]);
  private inFlight: { id: string; receipt: string; timer: unknown } | null = null;
  private wakeTimer: unknown = null;
  private receipts = 0;
  /** Where this user's outbox is kept (null: not kept, as in tests). */
  private storageKey: string | null = null;

  constructor(
    private readonly transport: OutboxTransport,
    private readonly clock: OutboxClock = browserClock,
  ) {
    this.items.subscribe(() => this.save());
  }

  /** Takes up the user's saved outbox (after login or a reload). */
  open(storageKey: string | null): void {
    this.close();
    this.storageKey = storageKey;
    this.items.set(this.load());
  }

  /** Logout: stops, and leaves the saved outbox where it is. */
  close(): void {
    this.settle();
    this.clock.clearTimer(this.wakeTimer);
    this.storageKey = null;
    this.items.set([]);
  }

  enqueue(roomId: string, text: string, afterSeq: number): OutboxItem {
    const item: OutboxItem = {
      id: uuid(),
      roomId,
      text,
      state: "queued",
      afterSeq,
      createdAt: new Date(this.clock.now()).toISOString(),
      attempts: 0,
    };
    this.items.update((list) => [...list, item]);
    this.pump();
    return item;
  }

  /** The user asks to try a failed message again (same id: the server can tell it is a retry). */
  retry(id: string): void {
    this.change(id, (i) =>
      i.state === "failed"
        ? { ...i, state: "queued", attempts: 0, note: undefined, notBefore: undefined }
        : i,
    );
    this.pump();
  }

  discard(id: string): void {
    if (this.inFlight?.id === id) return;
    this.items.update((list) => list.filter((i) => i.id !== id));
  }

  /** The connection is up (again). */
  connected(): void {
    const wait = this.clock.now() + UNCERTAIN_WAIT_MS;
    this.items.update((list) =>
      list.map((i) => (i.uncertain && i.state === "queued" ? { ...i, notBefore: wait } : i)),
    );
    this.pump();
  }

  /** The connection is gone: a SEND without an answer may or may not have been stored. */
  disconnected(): void {
    const f = this.inFlight;
    if (!f) return;
    this.clock.clearTimer(f.timer);
    this.inFlight = null;
    this.change(f.id, (i) => ({ ...i, state: "queued", uncertain: true }));
  }

  receipt(receiptId: string): void {
    const f = this.inFlight;
    if (!f || f.receipt !== receiptId) return;
    this.settle();
    this.change(f.id, (i) => ({ ...i, state: "sent", note: undefined, uncertain: false }));
    this.pump();
  }

  refused(receiptId: string, code: string, retryAfterMs?: number): void {
    const f = this.inFlight;
    if (!f || f.receipt !== receiptId) return;
    this.settle();
    this.change(f.id, (i) => this.afterRefusal(i, code, retryAfterMs));
    this.pump();
  }

  /**
   * A message of ours arrived in the room (live, replayed or in history): the outbox entry it
   * answers is done. Matched by client id when the server echoes it, else by text: the oldest
   * entry of that room with the same text queued before the message got its seq.
   */
  echo(m: ChatMessage, clientMsgId?: string): boolean {
    const list = this.items.get();
    const hit = clientMsgId
      ? list.find((i) => i.id === clientMsgId)
      : list.find((i) => i.roomId === m.roomId && i.text === m.text && m.seq > i.afterSeq && wentOut(i));
    if (!hit) return false;
    if (this.inFlight?.id === hit.id) this.settle();
    this.items.update((l) => l.filter((i) => i.id !== hit.id));
    this.pump();
    return true;
  }

  /** Stored messages of a room that is no longer shown: its history has them, nothing to track. */
  forgetSent(roomId: string): void {
    this.items.update((list) => list.filter((i) => !(i.roomId === roomId && i.state === "sent")));
  }

  /** Sends the next message if nothing is in flight and its time has come. */
  pump = (): void => {
    if (this.inFlight) return;
    this.clock.clearTimer(this.wakeTimer);
    const next = this.items.get().find((i) => i.state === "queued");
    if (!next) return;
    const wait = (next.notBefore ?? 0) - this.clock.now();
    if (wait > 0) {
      this.wakeTimer = this.clock.setTimer(this.pump, wait);
      return;
    }
    const receipt = `send-${next.id}-${++this.receipts}`;
    if (!this.transport.send(next, receipt)) return; // not connected: connected() pumps again
    this.inFlight = {
      id: next.id,
      receipt,
      timer: this.clock.setTimer(() => this.refused(receipt, "timeout"), ANSWER_TIMEOUT_MS),
    };
    this.change(next.id, (i) => ({ ...i, state: "sending" }));
  };

  private afterRefusal(i: OutboxItem, code: string, retryAfterMs?: number): OutboxItem {
    const note = describeSendRefusal(code);
    if (code === "rate_limited") {
      // Not a failure: the server said when to come back.
      return {
        ...i,
        state: "queued",
        note,
        notBefore: this.clock.now() + Math.max(50, (retryAfterMs ?? 1000) + 20),
      };
    }
    if (transientRefusals.has(code) && i.attempts + 1 < MAX_ATTEMPTS) {
      return {
        ...i,
        state: "queued",
        note,
        attempts: i.attempts + 1,
        uncertain: code === "timeout",
        notBefore: this.clock.now() + backoffDelay(i.attempts),
      };
    }
    return { ...i, state: "failed", note, attempts: i.attempts + 1, uncertain: code === "timeout" };
  }

  private settle(): void {
    if (this.inFlight) this.clock.clearTimer(this.inFlight.timer);
    this.inFlight = null;
  }

  private change(id: string, f: (i: OutboxItem) => OutboxItem): void {
    this.items.update((list) => list.map((i) => (i.id === id ? f(i) : i)));
  }

  private load(): OutboxItem[] {
    if (!this.storageKey) return [];
    try {
      const saved = JSON.parse(localStorage.getItem(this.storageKey) ?? "[]") as OutboxItem[];
      // A SEND out when the page went away may or may not have been stored: resend with the same id.
      return saved.map((i) => (i.state === "sending" ? { ...i, state: "queued", uncertain: true } : i));
    } catch {
      return [];
    }
  }

  private save(): void {
    if (!this.storageKey) return;
    // "sent" entries are stored on the server; history shows them after a reload.
    const keep = this.items.get().filter((i) => i.state !== "sent");
    if (keep.length) localStorage.setItem(this.storageKey, JSON.stringify(keep));
    else localStorage.removeItem(this.storageKey);
  }
}
