import { type EpochCheck, LogEpochError } from "../../lib/backlog/epochs.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import { BusUnavailableError, type MessageBus, type RoomControlEvent } from "../../lib/bus/types.ts";
import { parseRoomDestination } from "../../lib/chat/destinations.ts";
import { CLIENT_MSG_ID, newDraft, sendBodySchema } from "../../lib/chat/message.ts";
import { revokeSubscriptions } from "../../lib/chat/revocation.ts";
import { fromStore } from "../../lib/chat/store-refusal.ts";
import type { IdempotentPublisher } from "../../lib/delivery/publisher.ts";
import type { Logger } from "../../lib/log/index.ts";
import { errorFields } from "../../lib/log/index.ts";
import type { PresenceReporter } from "../../lib/presence/types.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { AppSession, ReceiptHeaders, StompApp, Subscription } from "../../lib/stomp/server/app.ts";
import { RefusedError, StompError } from "../../lib/stomp/server/errors.ts";
import type { RoomStore } from "../../lib/store/types.ts";
import type { ConfirmedReads } from "./confirmed-reads.ts";
import type { ReadPositionWriter } from "./read-positions.ts";
import { type ReplayDeps, type ReplayOptions, type ReplayStats, replayInto } from "./replay.ts";
import type { ReplayGate, ReplayTicket } from "./replay-gate.ts";
import { parseAckValue, type RoomHub, type RoomSub, releasePending } from "./room-hub.ts";

export interface RoomsAppDeps {
  rooms: RoomStore;
  /** For replays: the bus's reader progress and log epochs. */
  bus: MessageBus;
  /** Appends SENDs, once per client message id. */
  publisher: Pick<IdempotentPublisher, "publish">;
  backlog: Backlog;
  hub: RoomHub;
  readPositions: ReadPositionWriter;
  /** Moves auto-ack read positions to what clients confirm they received. */
  reads: ConfirmedReads;
  epochs: EpochCheck;
  maxMessageChars: number;
  replay: ReplayOptions;
  replayStats: ReplayStats;
  replayGate: ReplayGate;
  log: Logger;
  /** Told of every room subscription that starts or ends: "online in a room" for the presence service. */
  presence: PresenceReporter;
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

/** The messaging node's STOMP application: room destinations, membership, SEND through the bus. */
export class RoomsApp implements StompApp<RoomsState> {
  private readonly bodySchema;
  /** Replays admitted at SUBSCRIBE whose start has not run yet (released if it never does). */
  private readonly notStarted = new Map<RoomSub, ReplayTicket>();

  private readonly replayDeps: ReplayDeps;

  constructor(private readonly d: RoomsAppDeps) {
    this.bodySchema = sendBodySchema(d.maxMessageChars);
    this.replayDeps = { ...d, stats: d.replayStats, gate: d.replayGate };
  }

  newState(): RoomsState {
    return new Map();
  }

  async subscribe(session: RoomsSession, sub: Subscription): Promise<() => void> {
    const roomId = parseRoomDestination(sub.destination);
    if (!roomId) throw new StompError("unknown destination", `cannot subscribe to ${sub.destination}`);
    const userId = session.principal.userId;
    const readPosition = await fromStore(
      this.d.rooms.getReadPosition(roomId, userId),
      this.d.log,
      "membership",
    );
    if (readPosition === null) throw new StompError("forbidden", `not a member of room ${roomId}`);
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

  async send(session: RoomsSession, frame: Frame): Promise<ReceiptHeaders> {
    const { draft, idempotent } = await this.vet(session, frame);
    try {
      const { seq, duplicate } = await this.d.publisher.publish(draft);
      return duplicate ? { seq: String(seq), "x-duplicate": "true" } : { seq: String(seq) };
    } catch (err) {
      if (err instanceof BusUnavailableError) throw unavailable(err, idempotent);
      throw err;
    }
  }

  async checkSend(session: RoomsSession, frame: Frame): Promise<void> {
    await this.vet(session, frame);
  }

  /** The message a SEND would append: its destination, content type, body and the sender's membership checked. */
  private async vet(session: RoomsSession, frame: Frame) {
    const destination = frame.headers.destination!;
    const roomId = parseRoomDestination(destination);
    if (!roomId) throw new RefusedError("unknown_destination", `cannot send to ${destination}`);
    const contentType = frame.headers["content-type"];
    if (contentType !== undefined && !contentType.startsWith("application/json")) {
      throw new RefusedError("invalid_message", "content-type must be application/json");
    }
    const clientMsgId = frame.headers["x-client-msg-id"];
    if (clientMsgId !== undefined && !CLIENT_MSG_ID.test(clientMsgId)) {
      throw new RefusedError(
        "invalid_message",
        "x-client-msg-id must be 1 to 64 letters, digits or '_', '.', ':', '-'",
      );
    }
    const text = parseText(frame.body, this.bodySchema);
    const p = session.principal;
    // A live subscription to the room proves membership: it was checked at SUBSCRIBE and a removal
    // revokes it (control event). Only SENDs to rooms not subscribed on this connection hit the store.
    if (
      !subscribedTo(session, roomId) &&
      !(await fromStore(this.d.rooms.isMember(roomId, p.userId), this.d.log, "membership"))
    ) {
      throw new RefusedError("forbidden", `not a member of room ${roomId}`);
    }
    const draft = newDraft(roomId, "message", { id: p.userId, username: p.username }, text, clientMsgId);
    return { draft, idempotent: clientMsgId !== undefined };
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
    // A pass already under way may have taken its batch before these: the second one writes them.
    await this.d.readPositions.flush();
    await this.d.readPositions.flush();
    // The RECEIPT promises the positions are saved; when the store refused, say so instead (ERROR and
    // close): the client then knows a resume from its stored position may repeat messages.
    for (const rs of session.appState.values()) {
      if (this.d.readPositions.isPending(rs.roomId, rs.userId)) {
        throw new StompError(
          "read positions not saved",
          "the store did not answer; a reconnect without x-since-seq may repeat recent messages",
        );
      }
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
    // A pass already under way may have taken its batch before these: the second one writes them.
    await this.d.readPositions.flush();
    await this.d.readPositions.flush();
  }

  closed(session: RoomsSession): void {
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
  onControl(event: RoomControlEvent): void {
    const subs = [...this.d.hub.subsOf(event.roomId)];
    revokeSubscriptions(
      event,
      subs.map((rs) => ({ session: rs.session, subscriptionId: rs.sub.id, userId: rs.userId })),
    );
  }
}

/** The bus did not take a SEND: say honestly whether it was written, and whether sending again is safe. */
function unavailable(err: BusUnavailableError, withClientId: boolean): RefusedError {
  if (err.outcome === "not_written") {
    return new RefusedError(
      "unavailable",
      "message not stored: the message bus is unavailable; send it again",
      {
        outcome: "not_written",
      },
    );
  }
  const again = withClientId
    ? "send it again with the same x-client-msg-id: it will not be stored twice"
    : "sending it again may store it twice (send x-client-msg-id to make retries safe)";
  return new RefusedError(
    "unavailable",
    `outcome unknown: the message bus did not confirm the message in time and it may be stored; ${again}`,
    { outcome: "unknown" },
  );
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
