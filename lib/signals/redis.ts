import { errorFields, type Logger } from "../log/index.ts";
import { connectWithin, createRedisClient, destroyQuietly, type RedisClient } from "../redis/client.ts";
import type { RoomSignal, SignalBus } from "./types.ts";

export const DEFAULT_CHANNEL = "signals";

export interface RedisSignalOptions {
  url: string;
  /** The one Pub/Sub channel every node publishes to and listens on (with the key prefix). */
  channel: string;
  log: Logger;
  /** Publishes awaiting Redis's reply before further ones are dropped. Default 10 000. */
  maxPending?: number;
  /** How long subscribe() waits for a first connection. Default 2 000. */
  connectWaitMs?: number;
}

/**
 * Signals over Redis Pub/Sub: one channel, which every node publishes to and subscribes on, so a
 * signal reaches every replica once (Redis also hands it back to the publisher's node). Pub/Sub keeps
 * nothing, which is what a signal wants. The publishing client fails at once while disconnected (no
 * offline queue) and at most `maxPending` publishes are in flight: past either, signals are dropped.
 */
export function createRedisSignalBus(o: RedisSignalOptions): SignalBus {
  const maxPending = o.maxPending ?? 10_000;
  const pub = createRedisClient({ url: o.url });
  let sub: RedisClient | undefined;
  let subscribing: Promise<void> | undefined;
  let pending = 0;
  let down = false;
  let closed = false;
  const handlers = new Set<(signal: RoomSignal) => void>();
  const bus = { dropped: 0 };
  /** Logged once per outage. */
  const unreachable = (err?: unknown) => {
    if (down) return;
    down = true;
    o.log("warn", "signals: redis unreachable; dropping signals until it is back", errorFields(err));
  };
  const drop = (err?: unknown) => {
    bus.dropped++;
    unreachable(err);
  };
  pub.on("error", (err: unknown) => unreachable(err));
  pub.on("ready", () => {
    if (down) o.log("info", "signals: redis reachable again");
    down = false;
  });
  const connecting = connectWithin(pub, o.connectWaitMs ?? 2_000);

  const onMessage = (message: string) => {
    let signal: RoomSignal;
    try {
      signal = JSON.parse(message) as RoomSignal;
    } catch {
      o.log("error", "signals: unreadable signal", { channel: o.channel });
      return;
    }
    for (const h of handlers) {
      try {
        h(signal);
      } catch (err) {
        o.log("error", "signal handler failed", errorFields(err));
      }
    }
  };

  /**
   * Subscribes the channel once connected; while Redis is unreachable it keeps trying in the background
   * (signals are best effort, so a node starts without them). node-redis subscribes again by itself
   * after a reconnect.
   */
  const listen = async (s: RedisClient): Promise<void> => {
    try {
      if (!s.isOpen) await connectWithin(s, o.connectWaitMs ?? 2_000);
      await s.subscribe(o.channel, onMessage);
    } catch (err) {
      if (closed) return;
      o.log("warn", "signals: not subscribed yet; retrying", errorFields(err));
      setTimeout(() => void (closed || sub !== s ? undefined : listen(s)), 1_000).unref();
    }
  };

  return Object.assign(bus, {
    publish(signal: RoomSignal) {
      if (closed) return;
      if (!pub.isReady || pending >= maxPending) {
        drop();
        return;
      }
      pending++;
      pub
        .publish(o.channel, JSON.stringify(signal))
        .catch(drop)
        .finally(() => {
          pending--;
        });
    },
    async subscribe(handler: (signal: RoomSignal) => void) {
      handlers.add(handler);
      subscribing ??= connecting.then(() => {
        // Its own connection: a client in subscriber mode takes no other commands.
        sub = pub.duplicate();
        sub.on("error", () => {});
        return listen(sub);
      });
      await subscribing;
      return async () => {
        handlers.delete(handler);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      if (sub) destroyQuietly(sub);
      destroyQuietly(pub);
    },
  });
}
