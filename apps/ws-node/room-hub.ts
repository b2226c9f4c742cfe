import { roomDestination } from "../../lib/chat/destinations.ts";
import { type ChatMessage, toChatMessage } from "../../lib/chat/message.ts";
import type { StompVersion } from "../../lib/stomp/codec/frame.ts";
import { encodeMessage } from "../../lib/stomp/codec/message.ts";
import type { AppSession, Subscription } from "../../lib/stomp/server/app.ts";
import { CloseCode } from "../../lib/stomp/server/errors.ts";
import { PENDING_ACK_BYTES } from "../../lib/stomp/server/holdings.ts";
import { approxBytes, RecentMessages, type RecentMessagesOptions } from "./recent-messages.ts";

/** One client subscription to a room on this node. */
export interface RoomSub {
  /** The connection; its app state is its RoomSubs by subscription id. */
  readonly session: AppSession<Map<string, RoomSub>>;
  readonly sub: Subscription;
  readonly roomId: string;
  readonly userId: string;
  /** Bun topic of the group it is published through once live. */
  readonly topic: string;
  /**
   * replay: live messages are held while missed ones are sent; catchup: replay sent messages this
   * node has not yet received from the bus, so those are skipped until a newer one arrives; live:
   * delivered through its group.
   */
  mode: "replay" | "catchup" | "live";
  /** Live messages that arrived during the replay, sent once it has reached its end. */
  held: ChatMessage[];
  heldBytes: number;
  /** Client ack modes: seqs delivered and not yet acknowledged, ascending. */
  pending: number[];
  /** Highest seq sent to it (client ack modes and replay). */
  lastSent: number;
}

/** Subscribers that receive identical MESSAGE bytes: same room, subscription id, version and ack mode. */
interface Group {
  topic: string;
  subId: string;
  version: StompVersion;
  withAck: boolean;
  members: number;
}

export interface LocalRoom {
  groups: Map<string, Group>;
  subs: Set<RoomSub>;
  /** Subscriptions needing work per message (held for replay, or client ack). */
  perMessage: number;
}

export interface RoomHubOptions {
  /** Live messages held for one replaying subscription, in count and in bytes (approxBytes). */
  maxHeld: number;
  maxHeldBytes: number;
  maxPending: number;
  recent: RecentMessagesOptions;
}

/** MESSAGE `ack` values are `<subscription id>@<seq>`: the id keeps rooms sharing a seq apart. */
export function ackValue(subId: string, seq: number): string {
  return `${subId}@${seq}`;
}

export function parseAckValue(value: string): { subId: string; seq: number } | undefined {
  const at = value.lastIndexOf("@");
  if (at < 0) return undefined;
  const seq = Number(value.slice(at + 1));
  return Number.isSafeInteger(seq) && seq >= 0 ? { subId: value.slice(0, at), seq } : undefined;
}

/**
 * MESSAGE headers beyond the standard ones: `seq` (what a client keeps to resume, and to drop a
 * message it already has, without parsing the body), the sender's client message id, the replay mark.
 */
function messageHeaders(msg: ChatMessage, replay: boolean): (readonly [string, string])[] {
  const headers: (readonly [string, string])[] = [["seq", String(msg.seq)]];
  if (msg.clientMsgId !== undefined) headers.push(["x-client-msg-id", msg.clientMsgId]);
  if (replay) headers.push(["x-replay", "true"]);
  return headers;
}

/**
 * Local fan-out of room messages. A message is serialized once per group and published once per
 * group through Bun's pub/sub, so delivery to a thousand sockets is one native loop, not a JS loop.
 */
export class RoomHub {
  private readonly rooms = new Map<string, LocalRoom>();
  /**
   * Rooms that got a message (or a newly live subscriber) since the last `takeChanged`: the periodic
   * read confirmation visits only these, never every subscription on the node.
   */
  private changed = new Set<string>();
  readonly recent: RecentMessages;
  delivered = 0;

  constructor(
    /** The node's endpoint's publishMessage: a MESSAGE frame to the topic's `subscribers` sockets. */
    private readonly publish: (topic: string, frame: string | Uint8Array, subscribers: number) => void,
    private readonly opts: RoomHubOptions,
  ) {
    this.recent = new RecentMessages(opts.recent);
  }

  /** Latest seq of the room this node has seen on the bus, if any. */
  latestSeq(roomId: string): number | undefined {
    return this.recent.latestSeq(roomId);
  }

  /** Registers a subscription in replay mode: live messages are held for it until it goes live. */
  add(session: RoomSub["session"], sub: Subscription, roomId: string, userId: string): RoomSub {
    const withAck = sub.ack !== "auto";
    const topic = `r/${roomId}/${session.version}/${withAck ? "c" : "a"}/${sub.id}`;
    const rs: RoomSub = {
      session,
      sub,
      roomId,
      userId,
      topic,
      mode: "replay",
      held: [],
      heldBytes: 0,
      pending: [],
      lastSent: 0,
    };
    const room = this.room(roomId);
    room.subs.add(rs);
    room.perMessage++;
    return rs;
  }

  /**
   * Ends the replay. If it sent messages beyond what this node has seen on the bus, those will still
   * arrive here: the subscription skips them (catch-up) and joins its group at the first newer one.
   */
  endReplay(rs: RoomSub): void {
    if (rs.mode !== "replay") return;
    rs.held = [];
    rs.heldBytes = 0;
    const latest = this.latestSeq(rs.roomId) ?? 0;
    if (rs.lastSent > latest) rs.mode = "catchup";
    else this.goLive(rs);
  }

  private goLive(rs: RoomSub): void {
    const room = this.rooms.get(rs.roomId);
    if (!room?.subs.has(rs) || rs.mode === "live") return;
    rs.mode = "live";
    if (rs.sub.ack === "auto") room.perMessage--;
    let group = room.groups.get(rs.topic);
    if (!group) {
      const withAck = rs.sub.ack !== "auto";
      group = { topic: rs.topic, subId: rs.sub.id, version: rs.session.version, withAck, members: 0 };
      room.groups.set(rs.topic, group);
    }
    group.members++;
    rs.session.ws.subscribe(rs.topic);
    this.changed.add(rs.roomId);
  }

  remove(rs: RoomSub): void {
    const room = this.rooms.get(rs.roomId);
    if (!room?.subs.delete(rs)) return;
    releasePending(rs, rs.pending.length);
    if (rs.mode !== "live" || rs.sub.ack !== "auto") room.perMessage--;
    if (rs.mode === "live") {
      const group = room.groups.get(rs.topic);
      if (group && --group.members === 0) room.groups.delete(rs.topic);
      if (rs.session.state !== "closed") rs.session.ws.unsubscribe(rs.topic);
    }
    if (room.subs.size === 0) this.rooms.delete(rs.roomId);
  }

  subsOf(roomId: string): ReadonlySet<RoomSub> {
    return this.rooms.get(roomId)?.subs ?? new Set();
  }

  /** The rooms changed since the last call (see `changed`), and a fresh start. */
  takeChanged(): ReadonlySet<string> {
    const out = this.changed;
    this.changed = new Set();
    return out;
  }

  /** Keeps a room for the next `takeChanged` (its confirmation could not be asked this time). */
  markChanged(roomId: string): void {
    if (this.rooms.has(roomId)) this.changed.add(roomId);
  }

  /** Every room with subscribers on this node. */
  localRooms(): IterableIterator<[string, LocalRoom]> {
    return this.rooms.entries();
  }

  /** A message from the bus: remember it, then publish once per group. */
  deliver(msg: ChatMessage): void {
    this.recent.push(msg);
    const room = this.rooms.get(msg.roomId);
    if (!room) return;
    this.changed.add(msg.roomId);
    const body = JSON.stringify(toChatMessage(msg));
    const destination = roomDestination(msg.roomId);
    const extraHeaders = messageHeaders(msg, false);
    for (const g of room.groups.values()) {
      const frame = encodeMessage({
        destination,
        subscription: g.subId,
        messageId: msg.id,
        body,
        version: g.version,
        ack: g.withAck ? ackValue(g.subId, msg.seq) : undefined,
        extraHeaders,
      });
      this.publish(g.topic, frame, g.members);
      this.delivered += g.members;
    }
    if (room.perMessage === 0) return;
    for (const rs of room.subs) {
      if (rs.mode === "replay") {
        rs.held.push(msg);
        rs.heldBytes += approxBytes(msg);
        if (rs.held.length > this.opts.maxHeld || rs.heldBytes > this.opts.maxHeldBytes) {
          rs.session.fail("slow consumer", "too many messages arrived during replay", CloseCode.slowConsumer);
        }
      } else if (rs.mode === "catchup") {
        if (msg.seq <= rs.lastSent) continue;
        this.sendTo(rs, msg, false);
        this.goLive(rs);
      } else if (rs.sub.ack !== "auto") {
        this.track(rs, msg.seq);
      }
    }
  }

  /** Sends one message directly to one subscription (replay), tracking it for client acks; returns its size. */
  sendTo(rs: RoomSub, msg: ChatMessage, replay: boolean): number {
    const withAck = rs.sub.ack !== "auto";
    const frame = encodeMessage({
      destination: roomDestination(msg.roomId),
      subscription: rs.sub.id,
      messageId: msg.id,
      body: JSON.stringify(toChatMessage(msg)),
      version: rs.session.version,
      ack: withAck ? ackValue(rs.sub.id, msg.seq) : undefined,
      extraHeaders: messageHeaders(msg, replay),
    });
    rs.session.sendRaw(frame);
    this.delivered++;
    if (withAck) this.track(rs, msg.seq);
    else rs.lastSent = msg.seq;
    return frame.length;
  }

  private track(rs: RoomSub, seq: number): void {
    rs.lastSent = seq;
    if (rs.pending.length >= this.opts.maxPending) {
      rs.session.fail(
        "slow consumer",
        `more than ${this.opts.maxPending} unacknowledged messages on subscription ${rs.sub.id}`,
        CloseCode.slowConsumer,
      );
      return;
    }
    // The connection's and the user's bounds: many subscriptions must not add up past them.
    if (!rs.session.ledger.tryTake("pendingAcks", 1, PENDING_ACK_BYTES)) {
      rs.session.fail(
        "slow consumer",
        "too many unacknowledged messages on this connection or for this user",
        CloseCode.slowConsumer,
      );
      return;
    }
    rs.pending.push(seq);
  }

  private room(roomId: string): LocalRoom {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { groups: new Map(), subs: new Set(), perMessage: 0 };
      this.rooms.set(roomId, room);
    }
    return room;
  }
}

/** Gives back the ledger room of `n` acknowledged (or dropped) pending messages. */
export function releasePending(rs: RoomSub, n: number): void {
  if (n > 0) rs.session.ledger.release("pendingAcks", n, n * PENDING_ACK_BYTES);
}
