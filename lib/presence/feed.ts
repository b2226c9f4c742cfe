import type { UserRef } from "../chat/message.ts";
import type { RosterDiff, RosterEvent, RosterHandler, RosterSnapshot } from "./types.ts";

type FeedState = "loading" | "live" | "degraded";

/** Diffs held while a snapshot loads; past this the feed reloads instead of holding more. */
const MAX_BUFFERED = 1_000;

/**
 * One room's roster as a view follows it, shared by all its watchers: a new watcher starts from this
 * copy at its current version instead of asking the store again. The feed lines snapshots and diffs
 * up by version; a gap (a diff lost while the link to the store was down) makes it ask for a reload.
 */
export class RosterFeed {
  version = 0;
  state: FeedState = "loading";
  private readonly online = new Map<string, UserRef>();
  private readonly watchers = new Set<RosterHandler>();
  private buffered: RosterDiff[] = [];
  private overflowed = false;
  private toldDegraded = false;

  constructor(
    readonly roomId: string,
    private readonly onHandlerError: (err: unknown) => void,
  ) {}

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** The watcher gets the snapshot now when live, "degraded" now when degraded, else on load. */
  add(handler: RosterHandler): void {
    this.watchers.add(handler);
    if (this.state === "live") this.tell(handler, this.snapshot());
    else if (this.state === "degraded") this.tell(handler, { type: "degraded", roomId: this.roomId });
  }

  /** True when that was the last watcher. */
  remove(handler: RosterHandler): boolean {
    this.watchers.delete(handler);
    return this.watchers.size === 0;
  }

  /** The user as the roster at the current version has them, if online. */
  onlineUser(userId: string): UserRef | undefined {
    return this.online.get(userId);
  }

  snapshot(): RosterSnapshot {
    return {
      type: "snapshot",
      roomId: this.roomId,
      version: this.version,
      online: [...this.online.values()],
    };
  }

  /** About to ask the store for a snapshot: diffs from now on are held until it arrives. */
  loading(): void {
    this.state = "loading";
    this.buffered = [];
    this.overflowed = false;
  }

  /**
   * The store's snapshot: replaces the roster, applies the held diffs that follow it and tells every
   * watcher. False when the held diffs do not line up (the caller loads again).
   */
  load(s: RosterSnapshot): boolean {
    const held = this.buffered.filter((d) => d.version > s.version).sort((a, b) => a.version - b.version);
    const overflowed = this.overflowed;
    this.loading();
    if (overflowed) return false;
    this.online.clear();
    for (const u of s.online) this.online.set(u.id, u);
    this.version = s.version;
    for (const d of held) {
      if (d.version !== this.version + 1) return false;
      this.apply(d);
    }
    this.state = "live";
    this.toldDegraded = false;
    const snap = this.snapshot();
    for (const h of this.watchers) this.tell(h, snap);
    return true;
  }

  /** A diff from the store. False when it shows a gap: the feed is loading again and wants a snapshot. */
  diff(d: RosterDiff): boolean {
    if (this.state !== "live") {
      if (this.state === "loading") {
        if (this.buffered.length >= MAX_BUFFERED) this.overflowed = true;
        else this.buffered.push(d);
      }
      return true;
    }
    if (d.version <= this.version) return true;
    if (d.version !== this.version + 1) {
      this.loading();
      this.buffered.push(d);
      return false;
    }
    this.apply(d);
    for (const h of this.watchers) this.tell(h, d);
    return true;
  }

  /** The store is unreachable: watchers are told once, until the next snapshot. */
  degrade(): void {
    this.state = "degraded";
    this.buffered = [];
    if (this.toldDegraded) return;
    this.toldDegraded = true;
    const event: RosterEvent = { type: "degraded", roomId: this.roomId };
    for (const h of this.watchers) this.tell(h, event);
  }

  private apply(d: RosterDiff): void {
    for (const u of d.joined) this.online.set(u.id, u);
    for (const u of d.left) this.online.delete(u.id);
    this.version = d.version;
  }

  private tell(handler: RosterHandler, event: RosterEvent): void {
    try {
      handler(event);
    } catch (err) {
      this.onHandlerError(err);
    }
  }
}
