import type { Config } from "../config/index.ts";
import type { Logger } from "../log/index.ts";
import { MemoryPresence } from "./memory.ts";
import { RedisPresenceReporter, RedisPresenceView } from "./redis.ts";
import type { PresenceReporter, PresenceTuning, PresenceView } from "./types.ts";

export type { PresenceReporter, PresenceView, RosterEvent, RosterHandler } from "./types.ts";

export interface Presence {
  /** For a messaging node: call start() before reporting, stop() on shutdown. */
  reporter: PresenceReporter;
  /** For a presence node: call start() before watching, close() on shutdown. */
  view: PresenceView;
}

/**
 * Redis when REDIS_URL is set, else the in-process adapter (one object serving as both). The Redis
 * reporter and view open their connections only when started, so a process uses only what it starts.
 */
export function createPresence(
  config: Config,
  nodeId: string,
  log: Logger,
  tuning: PresenceTuning = {
    coalesceMs: config.PRESENCE_COALESCE_MS,
    nodeTtlMs: config.PRESENCE_NODE_TTL_MS,
    sweepEveryMs: config.PRESENCE_SWEEP_MS,
  },
): Presence {
  if (!config.REDIS_URL) {
    const memory = new MemoryPresence(log, tuning);
    return { reporter: memory, view: memory };
  }
  return {
    reporter: new RedisPresenceReporter({ url: config.REDIS_URL, nodeId, log, ...tuning }),
    view: new RedisPresenceView({ url: config.REDIS_URL, log, ...tuning }),
  };
}
