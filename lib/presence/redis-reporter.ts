import { withTimeout } from "../async/timeout.ts";
import type { UserRef } from "../chat/message.ts";
import { errorFields, type Logger } from "../log/index.ts";
import { connectWithin, destroyQuietly, type RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua-script.ts";
import { entryKey, LocalSubscriptions } from "./local.ts";
import { DEFAULT_PREFIX, presenceClient } from "./redis-client.ts";
import { ADD, DROP_NODE, HEARTBEAT, REMOVE, RESYNC, SWEEP } from "./redis-scripts.ts";
import type { PresenceReporter, PresenceTuning } from "./types.ts";

export interface RedisReporterOptions extends PresenceTuning {
  url: string;
  nodeId: string;
  log: Logger;
  /** Key and channel prefix; views must use the same. Default "presence:". */
  prefix?: string;
  /** How long start() waits for a first connection before carrying on without one. Default 2 000. */
  connectWaitMs?: number;
}

const scripts = {
  add: new LuaScript(ADD),
  remove: new LuaScript(REMOVE),
  heartbeat: new LuaScript(HEARTBEAT),
  resync: new LuaScript(RESYNC),
  dropNode: new LuaScript(DROP_NODE),
  sweep: new LuaScript(SWEEP),
};

/**
 * A messaging node's presence reports, on Redis (design in redis.ts). add/remove update the local
 * record at once and send a script without waiting; when Redis is away or a script fails, the node's
 * whole record is rebuilt from the local one as soon as Redis answers (RESYNC).
 */
export class RedisPresenceReporter implements PresenceReporter {
  private readonly local = new LocalSubscriptions();
  private readonly client: RedisClient;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly sweepEveryMs: number;
  private needsResync = true;
  /** Counts failures, so a resync only clears the flag if nothing failed after it was sent. */
  private failures = 0;
  private beating: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastSweep = 0;
  private stopped = false;

  constructor(private readonly o: RedisReporterOptions) {
    this.prefix = o.prefix ?? DEFAULT_PREFIX;
    this.ttlMs = o.nodeTtlMs ?? 10_000;
    this.sweepEveryMs = o.sweepEveryMs ?? 2_000;
    this.client = presenceClient(o.url, o.log, `reporter ${o.nodeId}`);
    // Whatever happened while away (a restart may have lost everything), rebuild on every connect.
    this.client.on("ready", () => {
      this.needsResync = true;
      void this.beat();
    });
  }

  add(roomId: string, user: UserRef, connectionId: string): void {
    try {
      if (!this.local.add(roomId, user, connectionId)) return;
      this.send(scripts.add, [this.o.nodeId, entryKey(roomId, user.id, connectionId), user.username]);
    } catch (err) {
      this.failed(err);
    }
  }

  remove(roomId: string, userId: string, connectionId: string): void {
    try {
      if (!this.local.remove(roomId, userId, connectionId)) return;
      this.send(scripts.remove, [this.o.nodeId, entryKey(roomId, userId, connectionId)]);
    } catch (err) {
      this.failed(err);
    }
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.beat(), Math.max(50, Math.floor(this.ttlMs / 3)));
    await connectWithin(this.client, this.o.connectWaitMs ?? 2_000);
    await this.beat();
  }

  /** Takes this node's entries out of the roster (its users leave at once), then disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    if (this.client.isReady) {
      try {
        await withTimeout(
          scripts.dropNode.run(this.client, [this.prefix, this.o.nodeId]),
          2_000,
          "presence drop",
        );
      } catch (err) {
        // The heart-beat key expires and a sweep takes the entries out instead.
        this.o.log("warn", "presence: could not remove this node's entries", errorFields(err));
      }
    }
    this.local.clear();
    destroyQuietly(this.client);
  }

  /** Not ready or a resync pending: the resync will carry this change, so there is nothing to send. */
  private send(script: LuaScript, args: string[]): void {
    if (this.stopped || !this.client.isReady || this.needsResync) {
      this.needsResync = true;
      return;
    }
    script.run(this.client, [this.prefix, ...args]).catch((err) => this.failed(err));
  }

  private failed(err: unknown): void {
    this.failures++;
    if (!this.needsResync) this.o.log("warn", "presence: report failed; will resync", errorFields(err));
    this.needsResync = true;
  }

  /** Heart-beat (or resync when needed), and look for dead nodes. One at a time. */
  private beat(): Promise<void> {
    this.beating ??= this.runBeat().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }

  private async runBeat(): Promise<void> {
    const timeoutMs = Math.max(500, Math.floor(this.ttlMs / 3));
    try {
      // A second round when a reconnect asked for a resync while the first was in flight.
      for (let round = 0; round < 2 && !this.stopped && this.client.isReady; round++) {
        if (!this.needsResync) {
          const alive = await withTimeout(
            scripts.heartbeat.run(this.client, [this.prefix, this.o.nodeId, String(this.ttlMs)]),
            timeoutMs,
            "presence heart-beat",
          );
          if (alive === 1) break;
          this.needsResync = true;
        }
        await this.resync(timeoutMs);
        if (!this.needsResync) break;
      }
      if (!this.stopped && this.client.isReady && performance.now() - this.lastSweep >= this.sweepEveryMs) {
        this.lastSweep = performance.now();
        await withTimeout(scripts.sweep.run(this.client, [this.prefix]), timeoutMs, "presence sweep");
      }
    } catch (err) {
      this.failed(err);
    }
  }

  private async resync(timeoutMs: number): Promise<void> {
    const failuresBefore = this.failures;
    const args = [this.prefix, this.o.nodeId, String(this.ttlMs)];
    for (const e of this.local.all())
      args.push(entryKey(e.roomId, e.user.id, e.connectionId), e.user.username);
    // Set before sending: changes made from here on are sent after the resync, in order.
    this.needsResync = false;
    try {
      await withTimeout(scripts.resync.run(this.client, args), timeoutMs, "presence resync");
    } catch (err) {
      this.failed(err);
      return;
    }
    if (this.failures !== failuresBefore) this.needsResync = true;
  }
}
