import { withTimeout } from "../async/timeout.ts";
import type { UserRef } from "../chat/message.ts";
import { errorFields, type Logger } from "../log/index.ts";
import { connectWithin, destroyQuietly, type RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua-script.ts";
import { RosterFeed } from "./feed.ts";
import { DEFAULT_PREFIX, presenceClient } from "./redis-client.ts";
import { FLUSH, SNAPSHOT, SWEEP } from "./redis-scripts.ts";
import type { PresenceTuning, PresenceView, RosterDiff, RosterHandler, RosterSnapshot } from "./types.ts";

export interface RedisViewOptions extends PresenceTuning {
  url: string;
  log: Logger;
  /** Key and channel prefix; reporters must use the same. Default "presence:". */
  prefix?: string;
  /** Health check period. Default 1 000. */
  healthEveryMs?: number;
  /** Limit for each Redis round trip before the store counts as unreachable. Default 1 000. */
  timeoutMs?: number;
  /** How often this view runs the coalescing flush. Default 50. */
  flushEveryMs?: number;
  /** How long start() waits for a first connection. Default 2 000. */
  connectWaitMs?: number;
}

const scripts = {
  flush: new LuaScript(FLUSH),
  snapshot: new LuaScript(SNAPSHOT),
  sweep: new LuaScript(SWEEP),
};
/** Rooms one FLUSH call takes; it runs again at once while there are more. */
const FLUSH_BATCH = 100;

/**
 * A presence node's view of the rosters in Redis (design in redis.ts): one pub/sub subscription and
 * one RosterFeed per watched room, shared by that room's watchers. It also runs the coalescing flush
 * and the dead-node sweep, and watches the health of both of its connections.
 */
export class RedisPresenceView implements PresenceView {
  private healthyNow = false;
  private readonly cmd: RedisClient;
  private sub: RedisClient | undefined;
  private subSuspect = true;
  private readonly feeds = new Map<string, RosterFeed>();
  private readonly loads = new Map<RosterFeed, Promise<boolean>>();
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly echoChannel: string;
  private readonly echoWaiters = new Map<string, () => void>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private probing: Promise<void> | undefined;
  private flushing = false;
  private sweeping = false;
  private closed = false;

  constructor(private readonly o: RedisViewOptions) {
    this.prefix = o.prefix ?? DEFAULT_PREFIX;
    this.timeoutMs = o.timeoutMs ?? 1_000;
    this.echoChannel = `${this.prefix}echo:${crypto.randomUUID()}`;
    this.cmd = presenceClient(o.url, o.log, "view");
    this.cmd.on("error", () => this.markUnhealthy());
    this.cmd.on("ready", () => void this.probe());
  }

  get healthy(): boolean {
    return this.healthyNow;
  }

  async start(): Promise<void> {
    if (this.timers.length > 0 || this.closed) return;
    this.timers.push(setInterval(() => void this.probe(), this.o.healthEveryMs ?? 1_000));
    this.timers.push(setInterval(() => void this.flush(), this.o.flushEveryMs ?? 50));
    this.timers.push(setInterval(() => void this.sweep(), this.o.sweepEveryMs ?? 2_000));
    await connectWithin(this.cmd, this.o.connectWaitMs ?? 2_000);
    await this.probe();
  }

  async watch(roomId: string, handler: RosterHandler): Promise<() => void> {
    let feed = this.feeds.get(roomId);
    if (feed) {
      feed.add(handler);
      await this.loads.get(feed);
    } else {
      feed = new RosterFeed(roomId, (err) =>
        this.o.log("error", "presence watcher failed", errorFields(err)),
      );
      this.feeds.set(roomId, feed);
      feed.add(handler);
      if (this.healthyNow) await this.load(feed);
      else feed.degrade();
    }
    const watched = feed;
    return () => {
      if (!watched.remove(handler) || this.feeds.get(roomId) !== watched) return;
      this.feeds.delete(roomId);
      this.sub?.unsubscribe(this.diffChannel(roomId), this.onDiff).catch(() => {});
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.probing;
    this.feeds.clear();
    if (this.sub) destroyQuietly(this.sub);
    destroyQuietly(this.cmd);
  }

  private diffChannel(roomId: string): string {
    return `${this.prefix}diff:${roomId}`;
  }

  private readonly onDiff = (message: string, channel: string): void => {
    const feed = this.feeds.get(channel.slice(`${this.prefix}diff:`.length));
    if (!feed) return;
    let diff: RosterDiff;
    try {
      diff = JSON.parse(message) as RosterDiff;
    } catch {
      this.o.log("error", "presence: unreadable diff", { channel });
      return;
    }
    if (!feed.diff(diff)) void this.load(feed);
  };

  private readonly onEcho = (token: string): void => {
    this.echoWaiters.get(token)?.();
  };

  /** Subscribes, then reads the snapshot; one load per feed at a time. False when it failed. */
  private load(feed: RosterFeed): Promise<boolean> {
    let loading = this.loads.get(feed);
    if (!loading) {
      loading = this.runLoad(feed).finally(() => this.loads.delete(feed));
      this.loads.set(feed, loading);
    }
    return loading;
  }

  private async runLoad(feed: RosterFeed): Promise<boolean> {
    // Retried only when diffs arriving during the load showed a gap.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.feeds.get(feed.roomId) !== feed) return true;
      feed.loading();
      try {
        const sub = this.sub;
        if (!sub) throw new Error("no pub/sub connection");
        await withTimeout(
          sub.subscribe(this.diffChannel(feed.roomId), this.onDiff),
          this.timeoutMs,
          "subscribe",
        );
        const reply = await withTimeout(
          scripts.snapshot.run(this.cmd, [this.prefix, feed.roomId]),
          this.timeoutMs,
          "snapshot",
        );
        if (feed.load(parseSnapshot(feed.roomId, reply))) return true;
      } catch (err) {
        this.o.log("warn", "presence: roster load failed", { roomId: feed.roomId, ...errorFields(err) });
        this.markUnhealthy();
        return false;
      }
    }
    feed.degrade();
    return false;
  }

  private markUnhealthy(): void {
    if (this.closed) return;
    // The pub/sub connection is replaced on recovery: it may hang after a network drop.
    this.subSuspect = true;
    if (this.healthyNow) this.o.log("warn", "presence: degraded (redis unreachable)");
    this.healthyNow = false;
    for (const feed of this.feeds.values()) feed.degrade();
  }

  private probe(): Promise<void> {
    this.probing ??= this.runProbe().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async runProbe(): Promise<void> {
    if (this.closed) return;
    if (!(await this.check())) return this.markUnhealthy();
    if (!this.healthyNow) {
      const loaded = await Promise.all([...this.feeds.values()].map((f) => this.load(f)));
      if (loaded.every(Boolean) && !this.subSuspect) {
        this.healthyNow = true;
        this.o.log("info", "presence: healthy, rosters loaded", { rooms: loaded.length });
      }
      return;
    }
    // Rooms first watched while degraded, or given up after repeated gaps.
    for (const feed of this.feeds.values()) if (feed.state === "degraded") void this.load(feed);
  }

  /** The command connection answers and a message published now comes back on the pub/sub one. */
  private async check(): Promise<boolean> {
    if (!this.cmd.isReady) return false;
    try {
      await withTimeout(this.cmd.ping(), this.timeoutMs, "ping");
      if (this.subSuspect || !this.sub?.isReady) {
        // Rooms subscribed on the old connection are reloaded on the new one once it works.
        this.markUnhealthy();
        await this.replaceSub();
      }
      return await this.echo();
    } catch {
      return false;
    }
  }

  private async replaceSub(): Promise<void> {
    if (this.sub) destroyQuietly(this.sub);
    this.sub = undefined;
    const sub = this.cmd.duplicate();
    sub.on("error", () => {
      if (this.sub === sub) this.markUnhealthy();
    });
    try {
      await withTimeout(sub.connect(), this.timeoutMs, "pub/sub connect");
      await withTimeout(sub.subscribe(this.echoChannel, this.onEcho), this.timeoutMs, "subscribe");
    } catch (err) {
      destroyQuietly(sub);
      throw err;
    }
    this.sub = sub;
    this.subSuspect = false;
  }

  private async echo(): Promise<boolean> {
    const token = crypto.randomUUID();
    const heard = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.timeoutMs);
      this.echoWaiters.set(token, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    try {
      await withTimeout(this.cmd.publish(this.echoChannel, token), this.timeoutMs, "publish");
      const ok = await heard;
      if (!ok) this.subSuspect = true;
      return ok;
    } finally {
      this.echoWaiters.delete(token);
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing || !this.cmd.isReady) return;
    this.flushing = true;
    try {
      const args = [this.prefix, String(this.o.coalesceMs ?? 200), String(FLUSH_BATCH)];
      for (let round = 0; round < 10; round++) {
        const taken = await withTimeout(scripts.flush.run(this.cmd, args), this.timeoutMs, "flush");
        if (Number(taken) < FLUSH_BATCH) break;
      }
    } catch {
      // The health check reports the store; the pending changes stay for the next flush.
    } finally {
      this.flushing = false;
    }
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || !this.cmd.isReady) return;
    this.sweeping = true;
    try {
      const dropped = await withTimeout(scripts.sweep.run(this.cmd, [this.prefix]), this.timeoutMs, "sweep");
      if (Number(dropped) > 0) this.o.log("info", "presence: dropped dead nodes", { count: Number(dropped) });
    } catch {
      // as for flush
    } finally {
      this.sweeping = false;
    }
  }
}

function parseSnapshot(roomId: string, reply: unknown): RosterSnapshot {
  if (!Array.isArray(reply) || typeof reply[0] !== "number") throw new Error("unexpected snapshot reply");
  const online: UserRef[] = [];
  for (let i = 1; i + 1 < reply.length; i += 2)
    online.push({ id: String(reply[i]), username: String(reply[i + 1]) });
  return { type: "snapshot", roomId, version: reply[0], online };
}
