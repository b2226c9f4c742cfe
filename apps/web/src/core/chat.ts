import { Alerts } from "./alerts.ts";
import { Api, type ChatMessage, type MyRoom, type Room, type RoomChanges } from "./api.ts";
import { Directory, fromServer, type RoomEvent, type UserEvent } from "./directory.ts";
import { ACCOUNT_DELETED, ApiError, describeError, describeSendRefusal } from "./errors.ts";
import { type IFrame, type IMessage, type Notice, StompLink, type StompSubscription } from "./link.ts";
import { CLIENT_MSG_ID_HEADER, Outbox } from "./outbox.ts";
import { type PresenceBody, Roster } from "./roster.ts";
import { Session } from "./session.ts";
import { type ReceiptsBody, RoomSignals, type TypingBody, TypingSender } from "./signals.ts";
import { Store } from "./store.ts";
import { Timeline } from "./timeline.ts";

export interface RoomView {
  roomId: string;
  /** member: the room is open; preview: a deep link to a room the user has not joined. */
  kind: "loading" | "member" | "preview" | "missing" | "error";
  room: Room | null;
  timeline: Timeline | null;
  roster: Roster | null;
  /** Who types, who has read how far. */
  signals: RoomSignals | null;
  /** Set when the room can no longer be read here (left in another tab, removed, deleted). */
  closed: string | null;
  error: string | null;
}

export interface Toast {
  id: number;
  text: string;
}

/** The first screenful of context above the first unread message, and how many unread to load up front. */
const CONTEXT_PAGE = 30;
const UNREAD_PAGE = 100;
const PAGE = 50;
/** More unread than this: open at the newest, the divider shows up when scrolling back to it. */
const MAX_UNREAD_JUMP = 300;
/**
 * Discover is refetched this often while visible (the live room list covers only the user's own rooms,
 * and those too while it is not connected).
 */
const ROOMS_POLL_MS = 30_000;
const USER_EVENTS = "/user/queue/events";

/**
 * The client's state and everything that changes it: the session, the two STOMP links, the outbox,
 * the room list and the open room. The React tree only reads its stores and calls its methods.
 */
export class ChatClient {
  readonly session = new Session();
  readonly api = new Api(this.session);
  readonly directory = new Directory();
  readonly view = new Store<RoomView | null>(null);
  readonly toasts = new Store<Toast[]>([]);
  readonly alerts = new Alerts();
  readonly chat: StompLink;
  readonly presence: StompLink;
  readonly outbox: Outbox;

  private roomSub: StompSubscription | null = null;
  /** The open room's typing and receipts subscriptions. */
  private signalSubs: StompSubscription[] = [];
  private typingSender: TypingSender | null = null;
  private signalReceipts = 0;
  private presenceSub: StompSubscription | null = null;
  private channel: BroadcastChannel | null = null;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private opening = 0;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  /** Rooms whose SUBSCRIBE the server refused (not a member, deleted): not tried again until joined. */
  private refused = new Set<string>();
  private toastSeq = 0;
  /** How telling the open room's "closed" explanation is (see applyRoomEvent). */
  private closedRank = -1;
  private started = false;

  constructor() {
    this.chat = new StompLink("/ws", this.session, {
      onConnect: () => {
        this.subscribeUserEvents();
        this.subscribeRoom();
        this.outbox.connected();
        void this.refreshRooms();
      },
      onDisconnect: () => {
        this.roomSub = null;
        this.signalSubs = [];
        this.view.get()?.signals?.typingLost();
        this.directory.notLive();
        this.outbox.disconnected();
      },
      onNotice: (n, receipt) => this.onNotice(n, receipt),
      onRefused: (frame) => this.subscriptionRefused(frame),
    });
    this.outbox = new Outbox({
      send: (item, receipt) =>
        this.chat.publish(
          `/topic/rooms/${item.roomId}`,
          JSON.stringify({ text: item.text }),
          { receipt, [CLIENT_MSG_ID_HEADER]: item.id },
          () => this.outbox.receipt(receipt),
        ),
    });
    this.presence = new StompLink("/presence", this.session, {
      onConnect: () => this.subscribePresence(),
      onDisconnect: () => {
        this.presenceSub = null;
      },
      onRefused: (frame) => this.subscriptionRefused(frame),
    });
  }

  get me(): string | null {
    return this.session.user?.id ?? null;
  }

  /** Starts everything for the logged-in user. */
  start(): void {
    if (this.started || !this.session.user) return;
    this.started = true;
    const userId = this.session.user.id;
    this.outbox.open(`chattalk.outbox.${userId}`);
    if (typeof BroadcastChannel === "function") {
      this.channel = new BroadcastChannel(`chattalk.rooms.${userId}`);
      this.channel.onmessage = (e) => this.applyRoomEvent(e.data as RoomEvent, "another tab");
    }
    this.chat.start();
    this.presence.start();
    addEventListener("focus", this.onFocus);
    addEventListener("pagehide", this.onPageHide);
    addEventListener("pageshow", this.onPageShow);
    this.pollTimer = setInterval(() => {
      if (document.visibilityState === "visible") void this.refreshRooms();
    }, ROOMS_POLL_MS);
    void this.refreshRooms();
  }

  /** Stops everything (logout or session end). */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.pollTimer);
    removeEventListener("focus", this.onFocus);
    removeEventListener("pagehide", this.onPageHide);
    removeEventListener("pageshow", this.onPageShow);
    this.channel?.close();
    this.channel = null;
    this.view.set(null);
    this.roomSub = null;
    this.presenceSub = null;
    this.outbox.close();
    this.directory.state.set(Directory.empty());
    await Promise.all([this.chat.stop(), this.presence.stop()]);
  }

  async logout(): Promise<void> {
    await this.stop();
    await this.session.logout();
  }

  // ---- room list ------------------------------------------------------------------------------

  /** Refetches the room list; asked again while a fetch is out, it fetches once more afterwards. */
  refreshRooms(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    // While the live room list is subscribed, it keeps the user's own rooms: only Discover is fetched.
    const live = this.directory.state.get().live;
    this.refreshing = Promise.all([live ? null : this.api.myRooms(), this.api.discover()])
      .then(([mine, discover]) => this.directory.set(mine, discover))
      .catch((err) => this.directory.failed(describeError(err)))
      .finally(() => {
        this.refreshing = null;
        if (this.refreshAgain && this.started) {
          this.refreshAgain = false;
          void this.refreshRooms();
        }
      });
    return this.refreshing;
  }

  async createRoom(name: string, maxMembers: number): Promise<Room> {
    const room = await this.api.createRoom(name, maxMembers);
    this.publishRoomEvent({ type: "room-joined", room: { ...room, readPosition: 0, unreadCount: 0 } });
    return room;
  }

  async join(roomId: string): Promise<Room> {
    const room = await this.api.join(roomId);
    this.refused.delete(roomId);
    this.publishRoomEvent({ type: "room-joined", room: { ...room, readPosition: 0, unreadCount: 0 } });
    if (this.view.get()?.roomId === roomId) {
      this.view.set(null);
      await this.open(roomId);
    }
    return room;
  }

  async leave(roomId: string): Promise<void> {
    // Stop listening first: otherwise the server ends these subscriptions itself, mid-way.
    const open = this.view.get()?.roomId === roomId;
    if (open) this.unsubscribe();
    try {
      await this.api.leave(roomId);
    } catch (err) {
      if (open) {
        this.subscribeRoom();
        this.subscribePresence();
      }
      throw err;
    }
    this.publishRoomEvent({ type: "room-left", roomId });
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.api.deleteRoom(roomId);
    if (this.view.get()?.roomId === roomId) this.unsubscribe();
    this.publishRoomEvent({ type: "room-deleted", roomId });
  }

  // ---- the open room --------------------------------------------------------------------------

  /** Shows a room (null: none). Safe to call again with the same id. */
  async open(roomId: string | null): Promise<void> {
    const current = this.view.get();
    if (current?.roomId === roomId && current.kind !== "error") return;
    this.closeCurrent();
    this.directory.opened(roomId);
    if (!roomId) return this.view.set(null);
    const ticket = ++this.opening;
    const stale = () => ticket !== this.opening;
    this.view.set(blankView(roomId, "loading"));
    if (!this.directory.state.get().loaded) await this.refreshRooms();
    if (stale()) return;
    let room: MyRoom | undefined = this.directory.find(roomId);
    if (!room) {
      try {
        const found = await this.api.room(roomId);
        if (stale()) return;
        if (!found.isMember) return this.view.set({ ...blankView(roomId, "preview"), room: found.room });
        await this.refreshRooms();
        room = this.directory.find(roomId);
        if (!room || stale()) return;
      } catch (err) {
        if (stale()) return;
        const missing = err instanceof ApiError && (err.status === 404 || err.status === 400);
        return this.view.set({
          ...blankView(roomId, missing ? "missing" : "error"),
          error: describeError(err),
        });
      }
    }
    const timeline = new Timeline(roomId, room.readPosition, room.unreadCount, this.me ?? "");
    const signals = new RoomSignals(this.me ?? "");
    this.view.set({ ...blankView(roomId, "member"), room, timeline, roster: new Roster(), signals });
    this.typingSender = new TypingSender((typing) => this.signal(roomId, typing));
    this.directory.read(roomId);
    this.subscribePresence();
    try {
      const unread = room.unreadCount > 0 && room.unreadCount <= MAX_UNREAD_JUMP;
      const pages = unread
        ? await Promise.all([
            this.api.history(roomId, { before: room.readPosition + 1 }, CONTEXT_PAGE),
            this.api.history(roomId, { after: room.readPosition }, UNREAD_PAGE),
          ])
        : [await this.api.history(roomId, { latest: true }, PAGE)];
      if (stale()) return;
      const messages = pages.flat();
      timeline.setInitial(messages, pages[0]!.length === (unread ? CONTEXT_PAGE : PAGE));
      for (const m of messages) if (m.sender.id === this.me) this.outbox.echo(m);
    } catch (err) {
      if (!stale()) timeline.failed(describeError(err));
      return;
    }
    this.subscribeRoom();
  }

  /** Opens the room again from scratch (after its history failed to load). */
  reopen(roomId: string): Promise<void> {
    this.closeCurrent();
    this.view.set(null);
    return this.open(roomId);
  }

  /** Scrolling reached the top: the page before the oldest loaded message. */
  async loadOlder(): Promise<void> {
    const t = this.view.get()?.timeline;
    if (!t) return;
    const s = t.state.get();
    if (s.loadingOlder || !s.hasOlder || s.status !== "ready") return;
    t.loadingOlder(true);
    try {
      const page = await this.api.history(s.roomId, { before: t.minSeq }, PAGE);
      t.prepend(page, page.length === PAGE);
    } catch (err) {
      t.loadingOlder(false, describeError(err));
    }
  }

  send(text: string): void {
    const v = this.view.get();
    if (!v?.timeline || v.closed) return;
    this.typingSender?.sent();
    this.outbox.enqueue(v.roomId, text, v.timeline.maxSeq);
  }

  /** The message box changed: tells the room this user types (or stopped, when `empty`). */
  typing(empty: boolean): void {
    this.typingSender?.input(empty);
  }

  // ---- messages, rooms, people and the account ------------------------------------------------

  /** Both arrive as lines of the room's stream, which changes what is shown. */
  editMessage = (roomId: string, seq: number, text: string) => this.api.editMessage(roomId, seq, text);
  deleteMessage = (roomId: string, seq: number) => this.api.deleteMessage(roomId, seq);

  async updateRoom(roomId: string, changes: RoomChanges): Promise<Room> {
    const room = await this.api.updateRoom(roomId, changes);
    this.publishRoomEvent({ type: "room-updated", room });
    return room;
  }

  async transfer(roomId: string, userId: string): Promise<Room> {
    const room = await this.api.transfer(roomId, userId);
    this.publishRoomEvent({ type: "room-updated", room });
    return room;
  }

  /** An invite link's token: joined through POST /api/invites/accept. */
  async acceptInvite(token: string): Promise<Room> {
    const room = await this.api.acceptInvite(token);
    this.refused.delete(room.id);
    this.publishRoomEvent({ type: "room-joined", room: { ...room, readPosition: 0, unreadCount: 0 } });
    return room;
  }

  /** The DM with a user, created the first time. */
  async openDm(userId: string): Promise<MyRoom> {
    const room = await this.api.openDm(userId);
    this.refused.delete(room.id);
    this.publishRoomEvent({ type: "room-joined", room });
    return room;
  }

  /** Deletes the account (the password again) and ends the session everywhere. */
  async deleteAccount(password: string): Promise<void> {
    await this.api.deleteAccount(password);
    await this.stop();
    this.session.end(ACCOUNT_DELETED);
  }

  toast(text: string): void {
    const id = ++this.toastSeq;
    this.toasts.update((list) => [...list.slice(-2), { id, text }]);
    setTimeout(() => this.toasts.update((list) => list.filter((t) => t.id !== id)), 6000);
  }

  private closeCurrent(): void {
    const v = this.view.get();
    this.typingSender?.stop();
    this.typingSender = null;
    this.unsubscribe();
    if (v) this.outbox.forgetSent(v.roomId);
    this.opening++;
  }

  private unsubscribe(): void {
    try {
      this.roomSub?.unsubscribe();
      for (const sub of this.signalSubs) sub.unsubscribe();
      this.presenceSub?.unsubscribe();
    } catch {
      // The connection went away meanwhile: nothing to unsubscribe from.
    }
    this.roomSub = null;
    this.signalSubs = [];
    this.presenceSub = null;
  }

  private subscribeRoom(): void {
    const v = this.view.get();
    const t = v?.timeline;
    if (
      !v ||
      !t ||
      v.closed ||
      this.roomSub ||
      this.refused.has(v.roomId) ||
      t.state.get().status !== "ready"
    )
      return;
    // x-since-seq: continue after what is shown, so a reconnect has neither a gap nor a duplicate.
    // The receipt names the room in a refusal (an ERROR, which also closes the connection).
    const since = t.maxSeq;
    const headers: Record<string, string> = { receipt: `room:${v.roomId}` };
    if (since > 0) headers["x-since-seq"] = String(since);
    this.roomSub = this.chat.subscribe(
      `/topic/rooms/${v.roomId}`,
      (m) => this.onRoomMessage(v.roomId, m),
      headers,
    );
    const signals = v.signals;
    if (!this.roomSub || !signals) return;
    const receipt = { receipt: `room:${v.roomId}` };
    const typing = this.chat.subscribe(
      `/topic/rooms/${v.roomId}/typing`,
      (m) => signals.onTyping(parse<TypingBody>(m.body)),
      receipt,
    );
    const receipts = this.chat.subscribe(
      `/topic/rooms/${v.roomId}/receipts`,
      (m) => signals.onReceipts(parse<ReceiptsBody>(m.body)),
      receipt,
    );
    this.signalSubs = [typing, receipts].filter((x) => x !== null);
  }

  /** Typing on or off; refusals (a rate limit) are not worth a word: the next keystroke says it again. */
  private signal(roomId: string, typing: boolean): boolean {
    return this.chat.publish(`/topic/rooms/${roomId}/typing`, JSON.stringify({ typing }), {
      receipt: `signal-${++this.signalReceipts}`,
    });
  }

  /** The user's live room list, on every connection: the whole list first, then its changes. */
  private subscribeUserEvents(): void {
    this.chat.subscribe(USER_EVENTS, (m) => {
      const ev = parse<UserEvent>(m.body);
      if (ev.type === "rooms") return this.directory.setLive(ev.rooms);
      const change = fromServer(ev);
      if (change) this.applyRoomEvent(change, "server");
    });
  }

  private subscribePresence(): void {
    const v = this.view.get();
    if (!v?.roster || v.closed || this.presenceSub || this.refused.has(v.roomId)) return;
    const roster = v.roster;
    const sub = this.presence.subscribe(
      `/topic/presence/rooms/${v.roomId}`,
      (m) => {
        if (roster.presence(JSON.parse(m.body) as PresenceBody) === "resubscribe") {
          this.presenceSub?.unsubscribe();
          this.presenceSub = null;
          this.subscribePresence();
        }
      },
      { receipt: `room:${v.roomId}` },
    );
    this.presenceSub = sub;
  }

  private onRoomMessage(roomId: string, frame: IMessage): void {
    const v = this.view.get();
    if (!v?.timeline || v.roomId !== roomId) return;
    const m = JSON.parse(frame.body) as ChatMessage;
    const replay = frame.headers["x-replay"] === "true";
    if (!v.timeline.add(m, replay)) return;
    if (m.sender.id === this.me && m.type === "message") {
      this.outbox.echo(m, frame.headers[CLIENT_MSG_ID_HEADER]);
    }
    if (!replay) {
      v.roster?.membership(m);
      if (m.type === "join" || m.type === "leave")
        this.memberCountChanged(roomId, m.type === "join" ? 1 : -1);
      if (m.sender.id !== this.me && m.type === "message") this.alerts.incoming(m, v.room?.name ?? "");
    }
  }

  /** Someone joined or left the open room: its entry in the room list follows. */
  private memberCountChanged(roomId: string, delta: number): void {
    const room = this.directory.find(roomId);
    if (room)
      this.directory.apply({
        type: "room-updated",
        room: { ...room, memberCount: room.memberCount + delta },
      });
  }

  private onNotice(n: Notice, receipt: string | undefined): void {
    if (receipt?.startsWith("send-")) this.outbox.refused(receipt, n.code, n.retryAfterMs);
    else if (receipt?.startsWith("signal-")) return;
    else if (n.code === "subscription_revoked") void this.revoked(n.roomId);
    else if (n.code === "replay_incomplete") {
      this.toast("Some missed messages could not be loaded. Scroll up to see the room's history.");
    } else this.toast(describeSendRefusal(n.code));
  }

  /**
   * The server refused to subscribe us to a room (an ERROR; the connection closes and comes back):
   * we are not a member any more, or the room is gone. Without this the reconnect would subscribe
   * again, be refused again, and loop.
   */
  private subscriptionRefused(frame: IFrame): void {
    // Only "forbidden" means that: a failed replay (say) is worth retrying after the reconnect.
    const receipt = frame.headers["receipt-id"];
    if (frame.headers.message !== "forbidden" || !receipt?.startsWith("room:")) return;
    const roomId = receipt.slice(5);
    if (this.refused.has(roomId)) return;
    this.refused.add(roomId);
    void this.revoked(roomId);
  }

  /** The server ended our subscription to a room: we were removed, or it was deleted. */
  private async revoked(roomId: string | undefined): Promise<void> {
    if (!roomId) return;
    const gone = await this.api.room(roomId).then(
      () => false,
      (err) => err instanceof ApiError && err.status === 404,
    );
    this.applyRoomEvent(gone ? { type: "room-deleted", roomId } : { type: "room-left", roomId }, "server");
  }

  /** A change made here: applied, and told to the user's other tabs. */
  private publishRoomEvent(ev: RoomEvent): void {
    this.directory.apply(ev);
    this.channel?.postMessage(ev);
  }

  private applyRoomEvent(ev: RoomEvent, from: "another tab" | "server"): void {
    this.directory.apply(ev);
    const v = this.view.get();
    if (!v || (ev.type !== "room-left" && ev.type !== "room-deleted") || ev.roomId !== v.roomId) return;
    this.unsubscribe();
    // Several sources tell of one end (another tab, the live room list, a revoked subscription), in
    // any order: the most telling explanation stays (the owner's removal, then the user's own leave —
    // which also deletes a room they were the last member of — then a deletion, then "not a member").
    const [rank, why] =
      ev.type === "room-deleted"
        ? [1, "This room was deleted."]
        : ev.reason === "removed"
          ? [3, "The room's owner removed you from this room."]
          : ev.reason === "banned"
            ? [3, "The room's owner removed you from this room and you can't join it again."]
            : from === "another tab" || ev.reason === "left"
              ? [2, "You left this room in another tab or on another device."]
              : [0, "You're no longer a member of this room."];
    if (v.closed && rank <= this.closedRank) return;
    this.closedRank = rank;
    this.view.set({ ...v, closed: why });
  }

  private onFocus = () => {
    void this.refreshRooms();
  };

  // Leaving the page: a clean DISCONNECT lets the server save exactly what was read.
  private onPageHide = () => {
    void this.chat.stop();
    void this.presence.stop();
  };

  private onPageShow = (e: PageTransitionEvent) => {
    if (!e.persisted) return;
    this.chat.start();
    this.presence.start();
  };
}

function blankView(roomId: string, kind: RoomView["kind"]): RoomView {
  return { roomId, kind, room: null, timeline: null, roster: null, signals: null, closed: null, error: null };
}

function parse<T>(body: string): T {
  return JSON.parse(body) as T;
}
