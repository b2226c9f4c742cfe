import type { UserRef } from "./api.ts";
import { Store } from "./store.ts";

/** A MESSAGE body of `/topic/rooms/<id>/typing`. */
export interface TypingBody {
  type: "typing";
  typing: UserRef[];
  count: number;
}

/** A MESSAGE body of `/topic/rooms/<id>/receipts`. */
export interface ReceiptsBody {
  type: "receipts";
  positions: { userId: string; seq: number }[];
}

export interface TypingState {
  /** Who else types, longest first (at most the server's five). */
  users: UserRef[];
  /** How many others type in all. */
  count: number;
}

/**
 * The open room's ephemeral signals as they arrive: who is typing, and how far each member has read
 * (for "seen by"). Neither is stored by the server nor replayed: a new subscription starts afresh.
 */
export class RoomSignals {
  readonly typing = new Store<TypingState>({ users: [], count: 0 });
  /** Each member's read position (highest seen; positions only move forward). */
  readonly read = new Store<ReadonlyMap<string, number>>(new Map());

  constructor(private readonly me: string) {}

  onTyping(body: TypingBody): void {
    const mine = body.typing.some((u) => u.id === this.me);
    this.typing.set({
      users: body.typing.filter((u) => u.id !== this.me),
      count: Math.max(0, body.count - (mine ? 1 : 0)),
    });
  }

  onReceipts(body: ReceiptsBody): void {
    const current = this.read.get();
    const moved = body.positions.filter((p) => (current.get(p.userId) ?? 0) < p.seq);
    if (moved.length === 0) return;
    const next = new Map(current);
    for (const p of moved) next.set(p.userId, p.seq);
    this.read.set(next);
  }

  /** The typing subscription ended (reconnect, room closed): nobody is known to type. */
  typingLost(): void {
    this.typing.set({ users: [], count: 0 });
  }
}

/** "mina is typing…", "mina and joon are typing…", "mina, joon and 3 others are typing…". */
export function typingText(s: TypingState): string {
  if (s.count === 0 || s.users.length === 0) return "";
  const names = s.users.slice(0, s.count > 3 ? 2 : 3).map((u) => u.username);
  const others = s.count - names.length;
  const who =
    others > 0
      ? `${names.join(", ")} and ${others} ${others === 1 ? "other" : "others"}`
      : names.length === 1
        ? names[0]!
        : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `${who} ${s.count === 1 ? "is" : "are"} typing…`;
}

/** The members other than `me` and `sender` who have read up to `seq`, by name. */
export function seenBy(
  seq: number,
  read: ReadonlyMap<string, number>,
  members: readonly UserRef[],
  me: string,
  sender: string,
): string[] {
  return members
    .filter((u) => u.id !== me && u.id !== sender && (read.get(u.id) ?? 0) >= seq)
    .map((u) => u.username);
}

/** How often "typing: true" is repeated while the user goes on typing (the server forgets after 5 s). */
export const TYPING_REPEAT_MS = 3_000;
/** No keystroke for this long: the user stopped typing. */
export const TYPING_IDLE_MS = 4_000;

/**
 * Tells the room when this user types: `true` on the first keystroke and again every 3 s while they
 * go on, `false` once they stop for 4 s or clear the box. Sending the message ends it on the server.
 */
export class TypingSender {
  private lastTrue = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly signal: (typing: boolean) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** The box changed; `empty` when it was cleared. */
  input(empty: boolean): void {
    clearTimeout(this.idle);
    if (empty) {
      this.stop();
      return;
    }
    const t = this.now();
    if (this.lastTrue === 0 || t - this.lastTrue >= TYPING_REPEAT_MS) {
      if (this.signal(true)) this.lastTrue = t;
    }
    this.idle = setTimeout(() => this.stop(), TYPING_IDLE_MS);
  }

  /** The message went out: the server ends the typing itself. */
  sent(): void {
    clearTimeout(this.idle);
    this.lastTrue = 0;
  }

  stop(): void {
    clearTimeout(this.idle);
    if (this.lastTrue === 0) return;
    this.lastTrue = 0;
    this.signal(false);
  }
}
