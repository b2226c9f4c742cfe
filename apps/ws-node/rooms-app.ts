import { type EpochCheck, LogEpochError } from "../../lib/backlog/epochs.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import type { MessageBus } from "../../lib/bus/types.ts";
import { type ControlEvent, revocationOf } from "../../lib/chat/control.ts";
import {
  parseRoomDestination,
  parseSignalDestination,
  USER_EVENTS_DESTINATION,
} from "../../lib/chat/destinations.ts";
import { STOMP_REFUSAL_CODES } from "../../lib/chat/errors.ts";
import { type Chat, ChatError } from "../../lib/chat/index.ts";
import { revokeSubscriptions } from "../../lib/chat/revocation.ts";
import { SendOrder } from "../../lib/chat/send-order.ts";
import type { Logger } from "../../lib/log/index.ts";
import { errorFields } from "../../lib/log/index.ts";
import type { PresenceReporter } from "../../lib/presence/types.ts";
import type { TokenBucket } from "../../lib/ratelimit/token-bucket.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { SimpleSend } from "../../lib/stomp/codec/simple-send.ts";
import type { AppSession, ReceiptHeaders, StompApp, Subscription } from "../../lib/stomp/server/app.ts";
import { RefusedError, StompError } from "../../lib/stomp/server/errors.ts";
import type { ConfirmedReads } from "./confirmed-reads.ts";
import type { UserEventsApp } from "./events-app.ts";
import type { ReadPositionWriter } from "./read-positions.ts";
import { type ReplayDeps, type ReplayOptions, type ReplayStats, replayInto } from "./replay.ts";
import type { ReplayGate, ReplayTicket } from "./replay-gate.ts";
import { parseAckValue, type RoomHub, type RoomSub, releasePending } from "./room-hub.ts";
import type { SignalsApp } from "./signals-app.ts";

export interface RoomsAppDeps {
  /** The chat domain: membership and message acceptance. */
  chat: Chat;
  /** For replays: the bus's reader progress and log epochs. */
  bus: MessageBus;
  backlog: Backlog;
  hub: RoomHub;
  readPositions: ReadPositionWriter;
  /** Moves auto-ack read positions to what clients confirm they received. */
  reads: ConfirmedReads;
  epochs: EpochCheck;
  replay: ReplayOptions;
  replayStats: ReplayStats;
  replayGate: ReplayGate;
  log: Logger;
  /** Told of every room subscription that starts or ends: "online in a room" for the presence service. */
  presence: PresenceReporter;
  /** The rooms' ephemeral signal destinations (`/topic/rooms/<id>/<kind>`). */
  signals: SignalsApp;
  /** Each user's live room list (`/user/queue/events`). */
  events: UserEventsApp;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Per connection: its room subscriptions, by subscription id. */
export type RoomsState = Map<string, RoomSub>;
export type RoomsSession = AppSession<RoomsState>;

/** Whether this connection subscribes to the room (which proves membership until revoked). */
function subscribedTo(session: RoomsSession, roomId: string): boolean {
  for (const rs of session.appState.values()) if (rs.roomId === roomId) return true;
  return false;
}

/**
 * The messaging node's STOMP application: room destinations (membership, SEND through the bus, replay),
 * and, handed to their own parts, the rooms' signal destinations and each user's live room list.
 */
export class RoomsApp implements StompApp<RoomsState> {
  /** Each connection's pipelined messages, appended in the order they arrived. */
  private readonly orders = new WeakMap<RoomsSession, SendOrder>();
  /** Replays admitted at SUBSCRIBE whose start has not run yet (released if it never does). */
  private readonly notStarted = new Map<RoomSub, ReplayTicket>();

  private readonly replayDeps: ReplayDeps;

  constructor(private readonly d: RoomsAppDeps) {
    this.replayDeps = { ...d, stats: d.replayStats, gate: d.replayGate };
  }

  newState(): RoomsState {
    return new Map();
  }

  async subscribe(session: RoomsSession, sub: Subscription): Promise<() => void> {
    const signal = parseSignalDestination(sub.destination);
    if (signal) return this.d.signals.subscribe(session, sub, signal);
    if (sub.destination === USER_EVENTS_DESTINATION) return this.d.events.subscribe(session, sub);
    const roomId = parseRoomDestination(sub.destination);
    if (!roomId) throw new StompError("unknown destination", `cannot subscribe to ${sub.destination}`);
    const userId = session.principal.userId;
    const readPosition = await this.d.chat.rooms.readPosition(session.principal, roomId).catch((err) => {
      if (err instanceof ChatError) throw new StompError("forbidden", err.message);
      throw err;
    });
    const sinceHeader = sub.headers["x-since-seq"];
    if (sinceHeader !== undefined && !/^\d{1,15}$/.test(sinceHeader)) {
      throw new StompError("invalid header: x-since-seq", "x-since-seq must be a non-negative integer");
    }
    const since = sinceHeader === undefined ? readPosition : Number(sinceHeader);
    const ticket = this.d.replayGate.admit(session.id, userId);
    if (typeof ticket === "string") {
      const { perConnection, perUser } = this.d.replayGate.limits;
      const limit = ticket === "connection" ? `${perConnection} per connection` : `${perUser} per user`;
      throw new RefusedError(
        "replay_limited",
        `too many replays of missed messages at once (at most ${limit}); subscribe again once one has finished`,
        { subscription: sub.id },
      );
    }
    const rs = this.d.hub.add(session, sub, roomId, userId);
    session.appState.set(sub.id, rs);
    this.notStarted.set(rs, ticket);
    this.d.presence.add(roomId, { id: userId, username: session.principal.username }, session.id);
    return () => {
      this.notStarted.delete(rs);
      replayInto(rs, since, ticket, this.replayDeps, this.d.replay)
        .then(() => {
          if (rs.sub.ack === "auto" && rs.lastSent > since)
            void this.d.reads.confirm(session, [{ roomId, userId, seq: rs.lastSent, rs }]);
        })
        .catch((err) => {
          if (err instanceof LogEpochError) {
            // Logged and counted by the check; the client must not get seqs from two logs mixed.
            session.fail(
              "room history unavailable",
              `the history of room ${roomId} belongs to an earlier message log; an operator must reconcile it`,
            );
            return;
          }
          this.d.log("error", "replay failed", { roomId, ...errorFields(err) });
          session.fail("replay failed", "missed messages could not be loaded; reconnect to retry");
        })
        .finally(() => ticket.done());
    };
  }

  unsubscribe(session: RoomsSession, sub: Subscription): void {
    if (this.d.signals.unsubscribe(session, sub) || this.d.events.unsubscribe(session, sub)) return;
    const rs = session.appState.get(sub.id);
    if (!rs) return;
    session.appState.delete(sub.id);
    // Everything sent on it so far counts as read once the client confirms receiving it.
    const latest = this.d.hub.latestSeq(rs.roomId);
    if (rs.sub.ack === "auto" && rs.mode === "live" && latest !== undefined) {
      void this.d.reads.confirm(session, [{ roomId: rs.roomId, userId: rs.userId, seq: latest }]);
    }
    this.forget(rs);
    this.d.presence.remove(rs.roomId, rs.userId, session.id);
  }

  async send(session: RoomsSession, frame: Frame): Promise<ReceiptHeaders | undefined> {
    const vetted = this.vet(session, frame);
    if (vetted.signal !== undefined) {
      await this.d.signals
        .send(session, vetted.signal, vetted.input, vetted.opts.memberKnown)
        .catch((err) => {
          throw refusal(err);
        });
      return undefined;
    }
    const { seq, duplicate } = await this.d.chat.messages
      .accept(session.principal, vetted.roomId, vetted.input, {
        ...vetted.opts,
        order: this.orderOf(session),
      })
      .catch((err) => {
        throw refusal(err);
      });
    return duplicate ? { seq: String(seq), "x-duplicate": "true" } : { seq: String(seq) };
  }

  /**
   * Messages to rooms are pipelined: each connection's are appended in the order they arrived
   * (SendOrder), whatever membership lookups they wait on. Signals are handled one at a time.
   */
  pipelines(_session: RoomsSession, frame: Frame): boolean {
    const destination = frame.headers.destination!;
    return !parseSignalDestination(destination) && parseRoomDestination(destination) !== undefined;
  }

  /**
   * A SEND entering a transaction: a message is checked as send would check it. A signal is ephemeral
   * and small (it holds no more than any frame in a transaction): it is checked in full at COMMIT.
   */
  async checkSend(session: RoomsSession, frame: Frame): Promise<void> {
    const vetted = this.vet(session, frame);
    if (vetted.signal !== undefined) return;
    await this.d.chat.messages
      .check(session.principal, vetted.roomId, vetted.input, vetted.opts)
      .catch((err) => {
        throw refusal(err);
      });
  }

  /** The STOMP side of a SEND: its destination, content type and JSON body; the domain checks the rest. */
  private vet(session: RoomsSession, frame: Frame) {
    const destination = frame.headers.destination!;
    const signal = parseSignalDestination(destination);
    const roomId = signal?.roomId ?? parseRoomDestination(destination);
    if (!roomId) throw new RefusedError("unknown_destination", `cannot send to ${destination}`);
    const contentType = frame.headers["content-type"];
    if (contentType !== undefined && !contentType.startsWith("application/json")) {
      throw new RefusedError("invalid_message", "content-type must be application/json");
    }
    // A live subscription to the room proves membership: it was checked at SUBSCRIBE and a removal
    // revokes it (control event). Only SENDs to rooms not subscribed on this connection hit the store.
    const subscribed = subscribedTo(session, roomId);
    const opts = signal
      ? { memberKnown: subscribed || this.d.signals.watches(session, roomId) }
      : { memberKnown: subscribed, clientMsgId: frame.headers["x-client-msg-id"] };
    return { roomId, signal: signal ?? undefined, input: parseJson(frame.body), opts };
  }

  ack(session: RoomsSession, id: string, positive: boolean, hint: string | undefined): void {
    const parsed = parseAckValue(id);
    const rs = parsed && session.appState.get(parsed.subId);
    if (!parsed || !rs || (hint !== undefined && hint !== rs.sub.id) || rs.sub.ack === "auto") {
      throw new StompError("invalid ack id", `no message to acknowledge with id ${id}`);
    }
    const at = rs.pending.indexOf(parsed.seq);
    if (at < 0) throw new StompError("invalid ack id", `message ${id} is not awaiting acknowledgement`);
    if (positive) {
      // client: cumulative; client-individual: this message only. NACKed messages stay unread
      // and come back as missed messages on the next subscription.
      const acked = rs.sub.ack === "client" ? rs.pending.splice(0, at + 1) : rs.pending.splice(at, 1);
      releasePending(rs, acked.length);
    }
    const readUpTo = rs.pending.length > 0 ? rs.pending[0]! - 1 : rs.lastSent;
    this.d.readPositions.advance(rs.roomId, rs.userId, readUpTo);
  }

  /**
   * A client that DISCONNECTs waits for our RECEIPT, which follows every MESSAGE sent before it: so
   * all of them were delivered. Deliveries stop first — a message sent while the save below is under
   * way would reach the client before the RECEIPT without being counted — then the positions are saved
   * at once, so a reconnect to any node replays nothing twice.
   */
  async disconnecting(session: RoomsSession): Promise<void> {
    for (const rs of session.appState.values()) {
      const latest = Math.max(rs.lastSent, this.d.hub.latestSeq(rs.roomId) ?? 0);
      const live = rs.mode !== "replay";
      this.forget(rs);
      if (rs.sub.ack === "auto" && live && latest > 0) {
        this.d.readPositions.advance(rs.roomId, rs.userId, latest);
      }
    }
    // The RECEIPT promises the positions are saved; when the store refused, say so instead (ERROR and
    // close): the client then knows a resume from its stored position may repeat messages. (Asking
    // whether this user's positions are still queued would be wrong: a read confirmed meanwhile queues
    // a newer one after ours were written.)
    if (!(await this.d.readPositions.flush())) {
      throw new StompError(
        "read positions not saved",
        "the store did not answer; a reconnect without x-since-seq may repeat recent messages",
      );
    }
  }

  /** True when every room subscription of the connection is live (not replaying missed messages). */
  settled(session: RoomsSession): boolean {
    for (const rs of session.appState.values()) if (rs.mode !== "live") return false;
    return true;
  }

  /**
   * Before the node closes connections to move them to another node (rebalancing): no more deliveries
   * to them, and what each was sent is saved, so a reconnect elsewhere resumes exactly there.
   */
  async handOff(sessions: RoomsSession[]): Promise<void> {
    for (const session of sessions) {
      for (const rs of session.appState.values()) {
        const latest = this.d.hub.latestSeq(rs.roomId);
        if (rs.sub.ack === "auto" && rs.mode === "live" && latest !== undefined) {
          this.d.readPositions.advance(rs.roomId, rs.userId, latest);
        }
        this.d.hub.remove(rs);
      }
    }
    await this.d.readPositions.flush();
  }

  /** Typing signals to a watched destination, taken at once (SignalsApp.sendAtOnce). */
  sendAtOnce(session: RoomsSession, send: SimpleSend): boolean {
    return this.d.signals.sendAtOnce(session, send);
  }

  private orderOf(session: RoomsSession): SendOrder {
    let order = this.orders.get(session);
    if (!order) {
      order = new SendOrder();
      this.orders.set(session, order);
    }
    return order;
  }

  /** Signal SENDs spend the connection's signal bucket, so typing never spends the chat budget. */
  sendBudget(session: RoomsSession, frame: Frame): TokenBucket | undefined {
    const destination = frame.headers.destination;
    return destination && parseSignalDestination(destination) ? this.d.signals.budget(session) : undefined;
  }

  closed(session: RoomsSession): void {
    this.d.signals.closed(session);
    this.d.events.closed(session);
    for (const rs of session.appState.values()) {
      this.forget(rs);
      this.d.presence.remove(rs.roomId, rs.userId, session.id);
    }
    session.appState.clear();
  }

  /** Off the hub; a replay that never started gives its place back (a started one does when it ends). */
  private forget(rs: RoomSub): void {
    this.d.hub.remove(rs);
    this.notStarted.get(rs)?.done();
    this.notStarted.delete(rs);
  }

  /** Membership changes from the http-api: revoke live subscriptions without a reconnect. */
  onControl(event: ControlEvent): void {
    const revocation = revocationOf(event);
    if (!revocation) return;
    this.d.signals.revoke(revocation);
    const subs = [...this.d.hub.subsOf(revocation.roomId)];
    revokeSubscriptions(
      revocation,
      subs.map((rs) => ({ session: rs.session, subscriptionId: rs.sub.id, userId: rs.userId })),
    );
  }
}

/** The bus did not take a SEND: say honestly whether it was written, and whether sending again is safe. */
/** A SEND body as JSON; the domain validates its shape. */
function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(body));
  } catch {
    throw new RefusedError("invalid_message", 'body must be JSON: {"text": "..."}');
  }
}

/**
 * A domain refusal as the SEND's refusal (a notice, or ERROR), with what it says about the message
 * (`outcome`: not_written, or unknown when the bus may have stored it); anything else as it is.
 */
function refusal(err: unknown): unknown {
  if (!(err instanceof ChatError)) return err;
  return new RefusedError(STOMP_REFUSAL_CODES[err.kind], err.message, err.details);
}
