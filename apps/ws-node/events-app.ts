import type { ControlEvent } from "../../lib/chat/control.ts";
import { USER_EVENTS_DESTINATION } from "../../lib/chat/destinations.ts";
import type { Chat } from "../../lib/chat/index.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";
import { type UserEvent, UserFeed } from "../../lib/chat/user-events.ts";
import { errorFields, type Logger } from "../../lib/log/index.ts";
import type { RoomSignal } from "../../lib/signals/types.ts";
import { encodeMessage } from "../../lib/stomp/codec/message.ts";
import type { AppSession, Subscription } from "../../lib/stomp/server/app.ts";
import { StompError } from "../../lib/stomp/server/errors.ts";

export interface UserEventsDeps {
  chat: Chat;
  /** The room's latest seq as this node has seen it on the bus (0 if none). */
  latestSeq(roomId: string): number;
  log: Logger;
  now?: () => number;
}

/** What a feed may hold back while it loads; past it, the feed loads again when done. */
const MAX_HELD = 10_000;
/** Counting a room's unread again, when reads and messages keep overtaking the count, gives up after this many. */
const MAX_RECOUNTS = 3;

interface Watcher {
  readonly session: AppSession<unknown>;
  readonly sub: Subscription;
}

/** One user's feed on this node, shared by that user's connections here that subscribed. */
interface Entry {
  readonly userId: string;
  readonly actor: { userId: string; username: string };
  feed: UserFeed | undefined;
  loading: Promise<void> | undefined;
  /** Inputs that arrived while loading, applied in order once loaded. */
  held: ((feed: UserFeed) => void)[];
  overflowed: boolean;
  readonly watchers: Set<Watcher>;
}

/**
 * `/user/queue/events` on the ws-node: each user's live room list, on every connection of theirs that
 * subscribes, on whichever node. Every node hears every control event, room message and saved read
 * position, so each keeps the feeds of its own users (lib/chat/user-events.ts) current by itself.
 */
export class UserEventsApp {
  private readonly entries = new Map<string, Entry>();
  private readonly byRoom = new Map<string, Set<Entry>>();
  private readonly watchersOf = new WeakMap<AppSession<unknown>, Map<string, Watcher>>();
  private readonly idPrefix = `e-${Math.random().toString(36).slice(2, 8)}-`;
  private messages = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;

  constructor(private readonly d: UserEventsDeps) {
    this.now = d.now ?? Date.now;
  }

  start(everyMs = 250): void {
    this.timer ??= setInterval(() => this.tick(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The continuation sends the room list once loaded, after the RECEIPT. */
  async subscribe(session: AppSession<unknown>, sub: Subscription): Promise<() => void> {
    if (sub.ack !== "auto")
      throw new StompError("invalid header: ack", "event subscriptions are ack:auto only");
    const userId = session.principal.userId;
    let entry = this.entries.get(userId);
    if (!entry) {
      entry = {
        userId,
        actor: { userId, username: session.principal.username },
        feed: undefined,
        loading: undefined,
        held: [],
        overflowed: false,
        watchers: new Set(),
      };
      this.entries.set(userId, entry);
      this.load(entry);
    }
    const w: Watcher = { session, sub };
    entry.watchers.add(w);
    const mine = this.watchersOf.get(session) ?? new Map<string, Watcher>();
    this.watchersOf.set(session, mine);
    mine.set(sub.id, w);
    const e = entry;
    return () => {
      const ready = e.loading ?? Promise.resolve();
      void ready.then(() => {
        if (e.feed && e.watchers.has(w)) this.sendTo(w, e.feed.snapshot());
      });
    };
  }

  /** True when it was one of this app's subscriptions. */
  unsubscribe(session: AppSession<unknown>, sub: Subscription): boolean {
    const w = this.watchersOf.get(session)?.get(sub.id);
    if (!w) return false;
    this.watchersOf.get(session)!.delete(sub.id);
    this.forget(session.principal.userId, w);
    return true;
  }

  closed(session: AppSession<unknown>): void {
    for (const w of this.watchersOf.get(session)?.values() ?? []) this.forget(session.principal.userId, w);
    this.watchersOf.delete(session);
  }

  onControl(event: ControlEvent): void {
    for (const entry of this.concerned(event)) {
      if (entry) this.apply(entry, (feed) => this.tell(entry, feed.onControl(event, this.d.latestSeq)));
    }
  }

  /** The feeds on this node a control event is about: its user's, the DM's two, or the room's members'. */
  private concerned(event: ControlEvent): (Entry | undefined)[] {
    switch (event.type) {
      case "member-joined":
      case "member-removed":
      case "sessions-revoked":
        return [this.entries.get(event.userId)];
      case "dm-opened":
        return event.users.map((u) => this.entries.get(u.id));
      case "room-deleted":
      case "room-updated":
        return [...(this.byRoom.get(event.roomId) ?? [])];
    }
  }

  onRoomEvent(m: ChatMessage): void {
    const now = this.now();
    for (const entry of this.byRoom.get(m.roomId) ?? []) this.apply(entry, (feed) => feed.onMessage(m, now));
  }

  /** Saved read positions travel as receipts (all of them, shared or not): they clear the user's own unread. */
  onSignal(s: RoomSignal): void {
    if (s.kind !== "receipts" || typeof s.data.seq !== "number") return;
    const entry = this.entries.get(s.userId);
    const seq = s.data.seq;
    if (entry)
      this.apply(
        entry,
        (feed) => feed.onRead(s.roomId, seq, this.now()) && this.recount(entry, feed, s.roomId, 0),
      );
  }

  tick(): void {
    const now = this.now();
    for (const entry of this.entries.values()) if (entry.feed) this.tell(entry, entry.feed.flush(now));
  }

  private load(entry: Entry): void {
    entry.loading = this.d.chat.rooms.mine(entry.actor).then(
      (rooms) => {
        const feed = new UserFeed(entry.userId, rooms);
        entry.feed = feed;
        for (const roomId of feed.roomIds()) this.index(entry, roomId);
        const held = entry.held;
        entry.held = [];
        for (const input of held) input(feed);
        entry.loading = undefined;
        if (entry.overflowed) this.reload(entry);
      },
      (err: unknown) => {
        this.d.log("warn", "room list not loaded", { userId: entry.userId, ...errorFields(err) });
        entry.loading = undefined;
        for (const w of entry.watchers) {
          w.session.notify("unavailable", "your room list could not be loaded; subscribe again", {
            subscription: w.sub.id,
          });
        }
      },
    );
  }

  /** Too much happened while loading to replay: load again, and send the lists anew. */
  private reload(entry: Entry): void {
    entry.overflowed = false;
    for (const roomId of entry.feed?.roomIds() ?? []) this.unindex(entry, roomId);
    entry.feed = undefined;
    this.load(entry);
    void entry.loading?.then(() => {
      if (entry.feed) this.tell(entry, [entry.feed.snapshot()]);
    });
  }

  /** Runs an input on the feed now, or once it has loaded. */
  private apply(entry: Entry, input: (feed: UserFeed) => unknown): void {
    if (entry.feed) {
      input(entry.feed);
      return;
    }
    if (entry.held.length >= MAX_HELD) entry.overflowed = true;
    else entry.held.push((feed) => void input(feed));
  }

  private recount(entry: Entry, feed: UserFeed, roomId: string, attempt: number): void {
    const at = feed.countFrom(roomId);
    if (!at) return;
    this.d.chat.rooms.unread(feed.userId, roomId, at.readPosition).then(
      (n) => {
        if (entry.feed === feed && feed.counted(roomId, at, n, this.now()) && attempt < MAX_RECOUNTS) {
          this.recount(entry, feed, roomId, attempt + 1);
        }
      },
      (err: unknown) => this.d.log("warn", "unread count not refreshed", { roomId, ...errorFields(err) }),
    );
  }

  /** Sends events to every connection of the user here, and keeps the room index in step with them. */
  private tell(entry: Entry, events: UserEvent[]): void {
    for (const e of events) {
      if (e.type === "joined" || e.type === "dm") this.index(entry, e.room.id);
      else if (e.type === "left" || e.type === "deleted") this.unindex(entry, e.roomId);
      for (const w of entry.watchers) this.sendTo(w, e);
    }
  }

  private sendTo(w: Watcher, event: UserEvent): void {
    if (w.session.state !== "connected") return;
    w.session.sendRaw(
      encodeMessage({
        destination: USER_EVENTS_DESTINATION,
        subscription: w.sub.id,
        messageId: this.idPrefix + (++this.messages).toString(36),
        body: JSON.stringify(event),
        version: w.session.version,
      }),
    );
  }

  private forget(userId: string, w: Watcher): void {
    const entry = this.entries.get(userId);
    if (!entry?.watchers.delete(w) || entry.watchers.size > 0) return;
    this.entries.delete(userId);
    for (const roomId of entry.feed?.roomIds() ?? []) this.unindex(entry, roomId);
    entry.feed = undefined;
    entry.held = [];
  }

  private index(entry: Entry, roomId: string): void {
    const set = this.byRoom.get(roomId) ?? new Set();
    this.byRoom.set(roomId, set);
    set.add(entry);
  }

  private unindex(entry: Entry, roomId: string): void {
    const set = this.byRoom.get(roomId);
    set?.delete(entry);
    if (set?.size === 0) this.byRoom.delete(roomId);
  }
}
