/** Redis plumbing shared by the presence reporter and view: client, Lua scripts by SHA, timeouts. */
import { createClient } from "redis";
import type { Logger } from "../log/index.ts";

export const DEFAULT_PREFIX = "presence:";

/**
 * A client that fails commands at once while disconnected (no offline queue: callers resync instead)
 * and reconnects by itself. Errors are logged once per outage.
 */
export function presenceClient(url: string, log: Logger, role: string) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000) },
  });
  let down = false;
  client.on("error", (err: unknown) => {
    if (down) return;
    down = true;
    log("warn", "presence: redis unreachable", {
      role,
      err: err instanceof Error ? err.message : String(err),
    });
  });
  client.on("ready", () => {
    if (down) log("info", "presence: redis reachable again", { role });
    down = false;
  });
  return client;
}

export type RedisClient = ReturnType<typeof presenceClient>;

/** Starts connecting; resolves when ready or after `waitMs`, whichever is first. Never rejects. */
export async function connectWithin(client: RedisClient, waitMs: number): Promise<void> {
  const connected = client.connect().then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([connected, Bun.sleep(waitMs)]);
}

/** Closes the socket now, whatever state the client is in. */
export function destroyQuietly(client: RedisClient): void {
  try {
    client.destroy();
  } catch {
    // never connected, or already closed
  }
}

const sha1 = (source: string) => new Bun.CryptoHasher("sha1").update(source).digest("hex");

/** A Lua script run by its SHA, loaded on first use (and again after a Redis restart). */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = sha1(source);
  }

  async run(client: RedisClient, args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(this.sha, { arguments: args });
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return client.eval(this.source, { arguments: args });
    }
  }
}

export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** Rejects with TimeoutError if `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
