import { z } from "zod";
import type { RoomSignal } from "../../signals/types.ts";
import { ChatError } from "../errors.ts";
import type { ChatMessage, UserRef } from "../message.ts";
import { legalBodies, type SignalBody, type SignalKind, type SignalState } from "./kind.ts";

/** A typist is forgotten this long after their last "typing: true". */
export const TYPING_EXPIRY_MS = 5_000;
/** Subscribers see at most this many names; `count` says how many are typing in all. */
export const TYPING_SHOWN = 5;

const body = z.object({ typing: z.boolean() }).strict();

function fromClient(input: unknown): Record<string, unknown> {
  const parsed = body.safeParse(input);
  if (!parsed.success)
    throw new ChatError("invalid", "invalid_message", 'body must be {"typing": true|false}');
  return parsed.data;
}

interface Typist {
  user: UserRef;
  since: number;
  expiresAt: number;
}

/**
 * Who is typing in a room. Clients SEND `{"typing": true}` while typing (again at most every 3 s) and
 * `{"typing": false}` when they stop or send; a typist is dropped 5 s after their last `true`, or at
 * once when their message arrives. Subscribers get `{type: "typing", roomId, typing: [≤ 5 users,
 * longest typing first], count}` whenever that changes, at most every 500 ms: the cost of a room's
 * typing is one small frame per window however many type.
 */
export const typing: SignalKind = {
  name: "typing",
  fromClient,
  // What browsers (JSON.stringify) and Python (json.dumps) send.
  legalBodies: legalBodies(fromClient, [
    '{"typing":true}',
    '{"typing":false}',
    '{"typing": true}',
    '{"typing": false}',
  ]),
  refreshMs: 2_000,
  flushMs: 500,
  newState(roomId) {
    return new TypingState(roomId);
  },
};

class TypingState implements SignalState {
  /** By user, in the order they started: the longest typing first. */
  private readonly typists = new Map<string, Typist>();
  /**
   * The same typists in the order of their last start, which is the order they expire in (time only
   * moves forward): expiry looks at the front only, O(1) per tick however many type.
   */
  private readonly byExpiry = new Map<string, Typist>();
  private changed = false;

  constructor(private readonly roomId: string) {}

  apply(s: RoomSignal, now: number): boolean {
    const known = this.typists.get(s.userId);
    if (s.data.typing === true) {
      if (known) {
        known.expiresAt = now + TYPING_EXPIRY_MS;
        this.byExpiry.delete(s.userId);
        this.byExpiry.set(s.userId, known);
        return false;
      }
      const typist = {
        user: { id: s.userId, username: s.username },
        since: now,
        expiresAt: now + TYPING_EXPIRY_MS,
      };
      this.typists.set(s.userId, typist);
      this.byExpiry.set(s.userId, typist);
      return this.mark();
    }
    return known ? this.drop(s.userId) : false;
  }

  tick(now: number): boolean {
    let changed = false;
    for (const [id, t] of this.byExpiry) {
      if (t.expiresAt > now) break;
      changed = this.drop(id);
    }
    return changed;
  }

  onRoomEvent(m: ChatMessage): boolean {
    return m.type === "message" && this.typists.has(m.sender.id) ? this.drop(m.sender.id) : false;
  }

  flush(): SignalBody | undefined {
    if (!this.changed) return undefined;
    this.changed = false;
    return this.view();
  }

  current(): SignalBody | undefined {
    return this.typists.size > 0 ? this.view() : undefined;
  }

  private view(): SignalBody {
    // Map order is arrival order: the longest typing come first.
    const shown: UserRef[] = [];
    for (const t of this.typists.values()) {
      if (shown.length === TYPING_SHOWN) break;
      shown.push(t.user);
    }
    return { type: "typing", roomId: this.roomId, typing: shown, count: this.typists.size };
  }

  private drop(userId: string): boolean {
    this.typists.delete(userId);
    this.byExpiry.delete(userId);
    return this.mark();
  }

  private mark(): true {
    this.changed = true;
    return true;
  }
}
