import type { Backlog } from "../../lib/backlog/types.ts";
import {
  BusUnavailableError,
  type ControlEvent,
  type MessageBus,
  revocationReason,
} from "../../lib/bus/types.ts";
import { newDraft, sendBodySchema } from "../../lib/chat/message.ts";
import type { Logger } from "../../lib/log/index.ts";
import type { PresenceReporter } from "../../lib/presence/types.ts";
import { authenticateConnect } from "../../lib/stomp/auth-header.ts";
import { RefusedError, StompError } from "../../lib/stomp/errors.ts";
import type { Frame, Headers } from "../../lib/stomp/frame.ts";
import type { Principal, StompApp, StompSession, Subscription } from "../../lib/stomp/session.ts";
import type { RoomStore } from "../../lib/store/types.ts";
import { parseRoomDestination } from "./destinations.ts";
import type { ReadPositionWriter } from "./read-positions.ts";
import { type ReplayOptions, replayInto } from "./replay.ts";
import { parseAckValue, type RoomHub, type RoomSub } from "./room-hub.ts";

export interface RoomsAppDeps {
  rooms: RoomStore;
  bus: MessageBus;
  backlog: Backlog;
  hub: RoomHub;
  readPositions: ReadPositionWriter;
  verifyToken(token: string): Promise<Principal>;
  maxMessageChars: number;
  replay: ReplayOptions;
  log: Logger;
  /** Told of every room subscription that starts or ends: "online in a room" for the presence service. */
  presence: PresenceReporter;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The room subscriptions of one connection, by subscription id. */
function roomSubs(session: StompSession): Map<string, RoomSub> {
  session.appState ??= new Map<string, RoomSub>();
  return session.appState as Map<string, RoomSub>;
}

/** Whether this connection subscribes to the room (which proves membership until revoked). */
function subscribedTo(session: StompSession, roomId: string): boolean {
  for (const rs of roomSubs(session).values()) if (rs.roomId === roomId) return true;
  return false;
}

/** The messaging node's STOMP application: room destinations, membership, SEND through the bus. */
export class RoomsApp implements StompApp {
  private readonly bodySchema;

  constructor(private readonly d: RoomsAppDeps) {
    this.bodySchema = sendBodySchema(d.maxMessageChars);
  }

  authenticate(h: Headers): Promise<Principal> {
    return authenticateConnect(h, (t) => this.d.verifyToken(t));
  }

  async subscribe(session: StompSession, sub: Subscription): Promise<() => void> {
    const roomId = parseRoomDestination(sub.destination);
    if (!roomId) throw new StompError("unknown destination", `cannot subscribe to ${sub.destination}`);
    const userId = session.principal!.userId;
    const readPosition = await this.d.rooms.getReadPosition(roomId, userId);
    if (readPosition === null) throw new StompError("forbidden", `not a member of room ${roomId}`);
    const sinceHeader = sub.headers["x-since-seq"];
    if (sinceHeader !== undefined && !/^\d{1,15}$/.test(sinceHeader)) {
      throw new StompError("invalid header: x-since-seq", "x-since-seq must be a non-negative integer");
    }
    const since = sinceHeader === undefined ? readPosition : Number(sinceHeader);
    const rs = this.d.hub.add(session, sub, roomId, userId);
    roomSubs(session).set(sub.id, rs);
    this.d.presence.add(roomId, { id: userId, username: session.principal!.username }, session.id);
    return () => {
      replayInto(rs, since, this.d, this.d.replay)
        .then(() => {
          if (rs.sub.ack === "auto" && rs.lastSent > since)
            this.d.readPositions.advance(roomId, userId, rs.lastSent);
        })
        .catch((err) => {
          this.d.log("error", "replay failed", { roomId, err: String(err) });
          session.fail("replay failed", "missed messages could not be loaded; reconnect to retry");
        });
    };
  }

  unsubscribe(session: StompSession, sub: Subscription): void {
    const rs = roomSubs(session).get(sub.id);
    if (!rs) return;
    roomSubs(session).delete(sub.id);
    // A clean unsubscribe with nothing left unsent means everything so far was delivered.
    if (rs.sub.ack === "auto" && rs.mode === "live" && session.ws.getBufferedAmount() === 0) {
      const latest = this.d.hub.latestSeq(rs.roomId);
      if (latest !== undefined) this.d.readPositions.advance(rs.roomId, rs.userId, latest);
    }
    this.d.hub.remove(rs);
    this.d.presence.remove(rs.roomId, rs.userId, session.id);
  }

  async send(session: StompSession, frame: Frame): Promise<void> {
    const destination = frame.headers.destination!;
    const roomId = parseRoomDestination(destination);
    if (!roomId) throw new RefusedError("unknown_destination", `cannot send to ${destination}`);
    const contentType = frame.headers["content-type"];
    if (contentType !== undefined && !contentType.startsWith("application/json")) {
      throw new RefusedError("invalid_message", "content-type must be application/json");
    }
    const text = parseText(frame.body, this.bodySchema);
    const p = session.principal!;
    // A live subscription to the room proves membership: it was checked at SUBSCRIBE and a removal
    // revokes it (control event). Only SENDs to rooms not subscribed on this connection hit the store.
    if (!subscribedTo(session, roomId) && !(await this.d.rooms.isMember(roomId, p.userId))) {
      throw new RefusedError("forbidden", `not a member of room ${roomId}`);
    }
    try {
      await this.d.bus.publish(newDraft(roomId, "message", { id: p.userId, username: p.username }, text));
    } catch (err) {
      if (err instanceof BusUnavailableError) {
        throw new RefusedError("unavailable", "message not accepted: the message bus is unavailable; retry");
      }
      throw err;
    }
  }

  ack(session: StompSession, id: string, positive: boolean, hint: string | undefined): void {
    const parsed = parseAckValue(id);
    const rs = parsed && roomSubs(session).get(parsed.subId);
    if (!parsed || !rs || (hint !== undefined && hint !== rs.sub.id) || rs.sub.ack === "auto") {
      throw new StompError("invalid ack id", `no message to acknowledge with id ${id}`);
    }
    const at = rs.pending.indexOf(parsed.seq);
    if (at < 0) throw new StompError("invalid ack id", `message ${id} is not awaiting acknowledgement`);
    if (positive) {
      // client: cumulative; client-individual: this message only. NACKed messages stay unread
      // and come back as missed messages on the next subscription.
      if (rs.sub.ack === "client") rs.pending.splice(0, at + 1);
      else rs.pending.splice(at, 1);
    }
    const readUpTo = rs.pending.length > 0 ? rs.pending[0]! - 1 : rs.lastSent;
    this.d.readPositions.advance(rs.roomId, rs.userId, readUpTo);
  }

  /**
   * A client that DISCONNECTs waits for our RECEIPT, which follows every MESSAGE sent before it: so
   * all of them were delivered. Save that at once, so a reconnect to any node replays nothing twice.
   */
  async disconnecting(session: StompSession): Promise<void> {
    for (const rs of roomSubs(session).values()) {
      const latest = Math.max(rs.lastSent, this.d.hub.latestSeq(rs.roomId) ?? 0);
      if (rs.sub.ack === "auto" && rs.mode !== "replay" && latest > 0) {
        this.d.readPositions.advance(rs.roomId, rs.userId, latest);
      }
    }
    await this.d.readPositions.flush();
  }

  /** True when every room subscription of the connection is live (not replaying missed messages). */
  settled(session: StompSession): boolean {
    for (const rs of roomSubs(session).values()) if (rs.mode !== "live") return false;
    return true;
  }

  /**
   * Before the node closes connections to move them to another node (rebalancing): no more deliveries
   * to them, and what each was sent is saved, so a reconnect elsewhere resumes exactly there.
   */
  async handOff(sessions: StompSession[]): Promise<void> {
    for (const session of sessions) {
      for (const rs of roomSubs(session).values()) {
        const latest = this.d.hub.latestSeq(rs.roomId);
        if (rs.sub.ack === "auto" && rs.mode === "live" && latest !== undefined) {
          this.d.readPositions.advance(rs.roomId, rs.userId, latest);
        }
        this.d.hub.remove(rs);
      }
    }
    // A pass already under way may have taken its batch before these: the second one writes them.
    await this.d.readPositions.flush();
    await this.d.readPositions.flush();
  }

  closed(session: StompSession): void {
    for (const rs of roomSubs(session).values()) {
      this.d.hub.remove(rs);
      this.d.presence.remove(rs.roomId, rs.userId, session.id);
    }
    roomSubs(session).clear();
  }

  /** Membership changes from the http-api: revoke live subscriptions without a reconnect. */
  onControl(event: ControlEvent): void {
    const why = revocationReason(event);
    for (const rs of [...this.d.hub.subsOf(event.roomId)]) {
      if (event.type === "member-removed" && rs.userId !== event.userId) continue;
      rs.session.revoke(rs.sub.id, why, { roomId: event.roomId });
    }
  }

  /** Auto-ack subscriptions with nothing unsent have seen everything up to the room's latest seq. */
  recordDelivered(): void {
    for (const [roomId, room] of this.d.hub.localRooms()) {
      const latest = this.d.hub.latestSeq(roomId);
      if (latest === undefined) continue;
      for (const rs of room.subs) {
        if (rs.sub.ack === "auto" && rs.mode === "live" && rs.session.ws.getBufferedAmount() === 0) {
          this.d.readPositions.advance(roomId, rs.userId, latest);
        }
      }
    }
  }
}

function parseText(body: Uint8Array, schema: ReturnType<typeof sendBodySchema>): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch {
    throw new RefusedError("invalid_message", 'body must be JSON: {"text": "..."}');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new RefusedError("invalid_message", result.error.issues.map((i) => i.message).join("; "));
  }
  return result.data.text;
}
