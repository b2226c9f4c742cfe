import { type ControlEvent, revocationOf } from "../../lib/chat/control.ts";
import { parsePresenceDestination } from "../../lib/chat/destinations.ts";
import { revokeSubscriptions } from "../../lib/chat/revocation.ts";
import { fromStore } from "../../lib/chat/store-refusal.ts";
import type { Logger } from "../../lib/log/index.ts";
import { errorFields } from "../../lib/log/index.ts";
import type { PresenceView, RosterEvent } from "../../lib/presence/types.ts";
import { encodeMessage } from "../../lib/stomp/codec/message.ts";
import type { AppSession, StompApp, Subscription } from "../../lib/stomp/server/app.ts";
import { StompError } from "../../lib/stomp/server/errors.ts";
import type { Member, RoomStore } from "../../lib/store/types.ts";

/**
 * Bodies of the MESSAGE frames on /topic/presence/rooms/<roomId> (JSON):
 *
 *   { "type": "snapshot", "roomId", "version", "online": [{ "id", "username" }],
 *     "members": [{ "id", "username", "online": boolean }] }
 *       First on every subscription, and again after "degraded" once the roster is back. `members`
 *       is every member of the room, so a client can list who is offline; `online` may also name
 *       users who joined the room after `members` was read.
 *   { "type": "diff", "roomId", "version", "joined": [{ "id", "username" }], "left": [...] }
 *       `version` is the previous one + 1; a client seeing a gap resubscribes for a fresh snapshot.
 *   { "type": "degraded", "roomId" }
 *       The presence store is unreachable; the roster is unknown until the next snapshot.
 */
export interface PresenceAppDeps {
  rooms: RoomStore;
  view: PresenceView;
  log: Logger;
}

/** One presence subscription of one connection. */
interface Watch {
  readonly roomId: string;
  readonly sub: Subscription;
  members: Member[];
  unwatch: (() => void) | undefined;
  ended: boolean;
  /** Events wait here until the RECEIPT is out, and while members are re-read for a new snapshot. */
  held: RosterEvent[] | undefined;
  messages: number;
  /** Drops it from the app's room index. */
  forget?: () => void;
}

/** Per connection: its roster watches, by subscription id. */
export type PresenceState = Map<string, Watch>;
type PresenceSession = AppSession<PresenceState>;

/** The presence node's STOMP application: read-only roster destinations, members only. */
export class PresenceApp implements StompApp<PresenceState> {
  /** Live watches by room, so membership changes reach them. */
  private readonly byRoom = new Map<string, Set<{ session: PresenceSession; w: Watch }>>();

  constructor(private readonly d: PresenceAppDeps) {}

  newState(): PresenceState {
    return new Map();
  }

  /** A member removed or a room deleted: their roster subscriptions end, like the chat ones. */
  onControl(event: ControlEvent): void {
    const revocation = revocationOf(event);
    if (!revocation) return;
    const watchers = [...(this.byRoom.get(revocation.roomId) ?? [])];
    revokeSubscriptions(
      revocation,
      watchers.map(({ session, w }) => ({
        session,
        subscriptionId: w.sub.id,
        userId: session.principal.userId,
      })),
    );
  }

  async subscribe(session: PresenceSession, sub: Subscription): Promise<() => void> {
    const roomId = parsePresenceDestination(sub.destination);
    if (!roomId) throw new StompError("unknown destination", `cannot subscribe to ${sub.destination}`);
    if (sub.ack !== "auto")
      throw new StompError("invalid header: ack", "presence subscriptions are ack:auto only");
    const members = await fromStore(this.d.rooms.members(roomId), this.d.log, "room members");
    if (!members.some((m) => m.id === session.principal.userId)) {
      throw new StompError("forbidden", `not a member of room ${roomId}`);
    }
    const w: Watch = { roomId, sub, members, unwatch: undefined, ended: false, held: [], messages: 0 };
    session.appState.set(sub.id, w);
    const entry = { session, w };
    const watchers = this.byRoom.get(roomId) ?? new Set();
    this.byRoom.set(roomId, watchers);
    watchers.add(entry);
    w.forget = () => {
      watchers.delete(entry);
      if (watchers.size === 0 && this.byRoom.get(roomId) === watchers) this.byRoom.delete(roomId);
    };
    const unwatch = await this.d.view.watch(roomId, (e) => this.onEvent(session, w, e));
    // The connection may have closed while the roster loaded.
    if (w.ended) unwatch();
    else w.unwatch = unwatch;
    return () => this.release(session, w);
  }

  unsubscribe(session: PresenceSession, sub: Subscription): void {
    const w = session.appState.get(sub.id);
    if (!w) return;
    session.appState.delete(sub.id);
    this.end(w);
  }

  async send(): Promise<never> {
    throw new StompError("read-only destination", "presence destinations cannot be sent to");
  }

  async checkSend(): Promise<void> {
    throw new StompError("read-only destination", "presence destinations cannot be sent to");
  }

  ack(_session: PresenceSession, id: string): void {
    throw new StompError("invalid ack id", `no message to acknowledge with id ${id}`);
  }

  closed(session: PresenceSession): void {
    for (const w of session.appState.values()) this.end(w);
    session.appState.clear();
  }

  private end(w: Watch): void {
    w.ended = true;
    w.forget?.();
    w.unwatch?.();
    w.unwatch = undefined;
  }

  private onEvent(session: PresenceSession, w: Watch, e: RosterEvent): void {
    if (w.ended) return;
    if (w.held) {
      w.held.push(e);
      return;
    }
    if (e.type === "snapshot") {
      // A new snapshot after an outage: members may have changed since the subscription.
      w.held = [e];
      this.d.rooms.members(w.roomId).then(
        (members) => {
          w.members = members;
          this.release(session, w);
        },
        (err) => {
          this.d.log("warn", "presence: members not re-read", { roomId: w.roomId, ...errorFields(err) });
          this.release(session, w);
        },
      );
      return;
    }
    this.deliver(session, w, e);
  }

  /** Sends what was held, then lets events through directly. */
  private release(session: PresenceSession, w: Watch): void {
    const held = w.held ?? [];
    w.held = undefined;
    for (const e of held) this.deliver(session, w, e);
  }

  private deliver(session: PresenceSession, w: Watch, e: RosterEvent): void {
    if (w.ended || session.state !== "connected") return;
    let body: string;
    if (e.type === "snapshot") {
      const online = new Set(e.online.map((u) => u.id));
      const members = w.members.map((m) => ({ id: m.id, username: m.username, online: online.has(m.id) }));
      body = JSON.stringify({ ...e, members });
    } else {
      body = JSON.stringify(e);
    }
    session.sendRaw(
      encodeMessage({
        destination: w.sub.destination,
        subscription: w.sub.id,
        messageId: `p-${session.id}-${++w.messages}`,
        body,
        version: session.version,
      }),
    );
  }
}
