import { RecencyMap } from "../../collections/recency-map.ts";
import type { RoomSignal, SignalBus } from "../../signals/types.ts";
import type { Actor, ChatContext } from "../context.ts";
import { ChatError } from "../errors.ts";
import type { SignalBody, SignalKind } from "./kind.ts";

/** Most (member, room, kind) entries the send-side gate remembers; the oldest go first past it. */
const GATE_ENTRIES = 100_000;

/**
 * Ephemeral signals as the domain accepts them: a member's SEND to a signal destination is validated
 * by its kind, checked for membership, and passed on to every node through the SignalBus, unless it
 * repeats what this member just said (the gate). Fan-out and coalescing for subscribers happen per
 * node (the ws-node's SignalHub folds signals with each kind's SignalState).
 */
export class Signals {
  /** What each member last passed on, per room and kind, and when: the send-side coalescing. */
  /**
   * In order of making (an update changes the entry in place, not its place). A RecencyMap: with
   * Bun's Map, finding the oldest key after many deletes from the front cost 63 us per new entry at
   * 100,000 entries (0.9 us at 1,000).
   */
  private readonly gate = new RecencyMap<string, { data: string; at: number }>();

  constructor(
    private readonly c: ChatContext,
    private readonly bus: SignalBus | undefined,
    readonly kinds: ReadonlyMap<string, SignalKind>,
  ) {}

  /** A member signals (`input` is the parsed SEND body); resolves once it is passed on or absorbed. */
  async send(
    actor: Actor,
    roomId: string,
    kindName: string,
    input: unknown,
    opts: { memberKnown?: boolean } = {},
  ): Promise<void> {
    const kind = this.kinds.get(kindName);
    if (!kind?.fromClient) {
      throw new ChatError("forbidden", "read_only", `clients do not send ${kindName} signals`);
    }
    const data = kind.fromClient(input);
    if (!opts.memberKnown && !(await this.c.ports.rooms.isMember(roomId, actor.userId))) {
      throw new ChatError("forbidden", "not_member", `not a member of room ${roomId}`);
    }
    this.passOn(actor, roomId, kind, data, JSON.stringify(data));
  }

  /**
   * A member's signal whose data is already validated (by fromClient, or one of the kind's
   * legalBodies), from a sender known to be a member: passed on to every node unless it repeats what
   * they just said. Synchronous, for the ws-node's fast path; `json` is the data as JSON (the gate's key).
   */
  passOn(actor: Actor, roomId: string, kind: SignalKind, data: Record<string, unknown>, json: string): void {
    if (!this.pass(kind, roomId, actor.userId, json)) return;
    this.publish({ kind: kind.name, roomId, userId: actor.userId, username: actor.username, data });
  }

  /** Whether signals can be passed on here (a node with a SignalBus). */
  get served(): boolean {
    return this.bus !== undefined;
  }

  /**
   * The member's message reached the room: whatever they signalled there is over (their typing ends
   * on every node when the message arrives), so their next signal is news, not a repeat.
   */
  messageSent(roomId: string, userId: string): void {
    for (const kind of this.kinds.keys()) this.gate.delete(`${kind}\u0000${roomId}\u0000${userId}`);
  }

  /**
   * What a new subscriber of a kind sees first: the kind's snapshot from the stores if it has one
   * (undefined: the node's own state serves).
   */
  snapshot(actor: Actor, roomId: string, kindName: string): Promise<SignalBody | undefined> | undefined {
    const kind = this.kinds.get(kindName);
    return kind?.snapshot?.(this.c, actor, roomId);
  }

  /**
   * Read positions this node has just saved: told to every node as receipts, marked unshared for members
   * who turned read receipts off (their own live room list still counts from them).
   */
  async readPositionsSaved(saved: readonly { roomId: string; userId: string; seq: number }[]): Promise<void> {
    if (saved.length === 0 || !this.bus) return;
    const hidden = await this.c.ports.users.withoutReadReceipts([...new Set(saved.map((p) => p.userId))]);
    for (const p of saved) {
      this.publish({
        kind: "receipts",
        roomId: p.roomId,
        userId: p.userId,
        username: "",
        data: { seq: p.seq, shared: !hidden.has(p.userId) },
      });
    }
  }

  /** The members who may watch a room's signals: its members. */
  async mayWatch(actor: Actor, roomId: string): Promise<void> {
    if (!(await this.c.ports.rooms.isMember(roomId, actor.userId))) {
      throw new ChatError("forbidden", "not_member", `not a member of room ${roomId}`);
    }
  }

  protected publish(signal: RoomSignal): void {
    if (!this.bus) throw new ChatError("unavailable", "signals_unavailable", "signals are not served here");
    this.bus.publish(signal);
  }

  /**
   * False when the same member said the same within the kind's refresh time. An entry is updated in
   * place (no allocation); past GATE_ENTRIES the oldest-made entry goes, which at worst lets one
   * repeat through.
   */
  private pass(kind: SignalKind, roomId: string, userId: string, json: string): boolean {
    const key = `${kind.name}\u0000${roomId}\u0000${userId}`;
    const now = this.c.now();
    const last = this.gate.get(key);
    if (last) {
      if (last.data === json && now - last.at < kind.refreshMs) return false;
      last.data = json;
      last.at = now;
      return true;
    }
    if (this.gate.size >= GATE_ENTRIES) {
      const oldest = this.gate.leastRecent();
      if (oldest) this.gate.delete(oldest[0]);
    }
    this.gate.set(key, { data: json, at: now });
    return true;
  }
}
