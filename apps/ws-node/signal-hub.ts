import type { SignalBody, SignalKind, SignalState } from "../../lib/chat/index.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";
import type { RoomSignal } from "../../lib/signals/types.ts";
import type { StompVersion } from "../../lib/stomp/codec/frame.ts";
import { encodeMessage } from "../../lib/stomp/codec/message.ts";
import type { AppSession, Subscription } from "../../lib/stomp/server/app.ts";

/** One client subscription to one kind of a room's signals, on this node. */
export interface SignalSub {
  readonly session: AppSession<unknown>;
  readonly sub: Subscription;
  readonly roomId: string;
  readonly userId: string;
  readonly kind: SignalKind;
  /** Bun topic of the group its MESSAGEs are published through. */
  readonly topic: string;
}

/** Subscribers that receive identical MESSAGE bytes: same subscription id and STOMP version. */
interface Group {
  subId: string;
  version: StompVersion;
  members: number;
}

/** A (room, kind) with local subscribers: its folded state and who gets it. */
interface Watched {
  readonly kind: SignalKind;
  readonly roomId: string;
  readonly destination: string;
  readonly state: SignalState;
  readonly subs: Set<SignalSub>;
  readonly groups: Map<string, Group>;
  dirty: boolean;
  lastFlush: number;
}

/**
 * Local fan-out of ephemeral signals. Signals from every node (the SignalBus) are folded, per room and
 * kind, by that kind's SignalState, and only for rooms with subscribers here; what subscribers see is
 * flushed at most once per the kind's window, serialized once per group and published once per group
 * through Bun's pub/sub, as room messages are.
 */
export class SignalHub {
  private readonly watched = new Map<string, Watched>();
  private readonly byRoom = new Map<string, Set<Watched>>();
  private readonly idPrefix = `s-${Math.random().toString(36).slice(2, 8)}-`;
  private messages = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** MESSAGE frames published (per group) and delivered (per subscriber), for benchmarks and metrics. */
  published = 0;
  delivered = 0;

  constructor(
    /** The node's endpoint's publishMessage: a MESSAGE frame to the topic's `subscribers` sockets. */
    private readonly publish: (topic: string, frame: string | Uint8Array, subscribers: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Expiry and flushes run on one timer for every room, as often as the shortest window needs. */
  start(everyMs = 100): void {
    this.timer ??= setInterval(() => this.tick(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  add(
    session: SignalSub["session"],
    sub: Subscription,
    roomId: string,
    userId: string,
    kind: SignalKind,
  ): SignalSub {
    const key = `${kind.name}\u0000${roomId}`;
    let w = this.watched.get(key);
    if (!w) {
      w = {
        kind,
        roomId,
        destination: sub.destination,
        state: kind.newState(roomId),
        subs: new Set(),
        groups: new Map(),
        dirty: false,
        lastFlush: 0,
      };
      this.watched.set(key, w);
      const inRoom = this.byRoom.get(roomId) ?? new Set();
      this.byRoom.set(roomId, inRoom);
      inRoom.add(w);
    }
    const topic = `s/${kind.name}/${roomId}/${session.version}/${sub.id}`;
    const ss: SignalSub = { session, sub, roomId, userId, kind, topic };
    w.subs.add(ss);
    const group = w.groups.get(topic) ?? { subId: sub.id, version: session.version, members: 0 };
    w.groups.set(topic, group);
    group.members++;
    session.ws.subscribe(topic);
    return ss;
  }

  remove(ss: SignalSub): void {
    const key = `${ss.kind.name}\u0000${ss.roomId}`;
    const w = this.watched.get(key);
    if (!w?.subs.delete(ss)) return;
    const group = w.groups.get(ss.topic);
    if (group && --group.members === 0) w.groups.delete(ss.topic);
    if (ss.session.state !== "closed") ss.session.ws.unsubscribe(ss.topic);
    if (w.subs.size > 0) return;
    this.watched.delete(key);
    const inRoom = this.byRoom.get(ss.roomId);
    inRoom?.delete(w);
    if (inRoom?.size === 0) this.byRoom.delete(ss.roomId);
  }

  /** What a new subscription sees first: the state this node holds for the room (if it says anything). */
  current(ss: SignalSub): SignalBody | undefined {
    return this.watched.get(`${ss.kind.name}\u0000${ss.roomId}`)?.state.current();
  }

  /** Sends one body to one subscription (its first view). */
  sendTo(ss: SignalSub, body: SignalBody): void {
    ss.session.sendRaw(
      encodeMessage({
        destination: ss.sub.destination,
        subscription: ss.sub.id,
        messageId: this.idPrefix + (++this.messages).toString(36),
        body: JSON.stringify(body),
        version: ss.session.version,
      }),
    );
    this.delivered++;
  }

  subsOf(roomId: string): SignalSub[] {
    return [...(this.byRoom.get(roomId) ?? [])].flatMap((w) => [...w.subs]);
  }

  /** A signal from any node: only rooms watched here keep state for it. */
  onSignal(signal: RoomSignal): void {
    const w = this.watched.get(`${signal.kind}\u0000${signal.roomId}`);
    if (w?.state.apply(signal, this.now())) w.dirty = true;
  }

  /** A line of a room's log, as every node receives it. */
  onRoomEvent(m: ChatMessage): void {
    for (const w of this.byRoom.get(m.roomId) ?? []) if (w.state.onRoomEvent(m)) w.dirty = true;
  }

  tick(): void {
    const now = this.now();
    for (const w of this.watched.values()) {
      if (w.state.tick(now)) w.dirty = true;
      if (!w.dirty || now - w.lastFlush < w.kind.flushMs) continue;
      w.dirty = false;
      w.lastFlush = now;
      const body = w.state.flush();
      if (body) this.fanOut(w, JSON.stringify(body));
    }
  }

  private fanOut(w: Watched, body: string): void {
    const messageId = this.idPrefix + (++this.messages).toString(36);
    for (const [topic, g] of w.groups) {
      const frame = encodeMessage({
        destination: w.destination,
        subscription: g.subId,
        messageId,
        body,
        version: g.version,
      });
      this.publish(topic, frame, g.members);
      this.published++;
      this.delivered += g.members;
    }
  }
}
