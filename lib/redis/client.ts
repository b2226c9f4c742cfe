/**
 * The Redis connection set-up shared by every Redis adapter (presence, rate limits): one way to
 * connect, reconnect, wait for a first connection and close.
 */
import { createClient } from "redis";
import { waitAtMost } from "../async/timeout.ts";

export interface RedisClientOptions {
  url: string;
  /** Per connection attempt. Default 2 000 ms. */
  connectTimeoutMs?: number;
}

/**
 * A client that fails commands at once while disconnected (no offline queue: callers fall back or
 * resync instead of piling up work) and reconnects by itself, backing off up to a second. It reports
 * connection failures as "error" events; attach a listener before connecting.
 */
export function createRedisClient(o: RedisClientOptions) {
  return createClient({
    url: o.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: o.connectTimeoutMs ?? 2_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000),
    },
  });
}

export type RedisClient = ReturnType<typeof createRedisClient>;

/** Starts connecting; resolves when ready or after `waitMs`, whichever is first. Never rejects. */
export function connectWithin(client: RedisClient, waitMs: number): Promise<void> {
  return waitAtMost(client.connect(), waitMs);
}

/** Closes the socket now, whatever state the client is in. */
export function destroyQuietly(client: RedisClient): void {
  try {
    client.destroy();
  } catch {
    // never connected, or already closed
  }
}
