import { hostname } from "node:os";
import { type TokenService, tokenServiceFromConfig } from "./auth/index.ts";
import { createBacklog } from "./backlog/index.ts";
import type { Backlog } from "./backlog/types.ts";
import { createBus } from "./bus/index.ts";
import type { MessageBus } from "./bus/types.ts";
import type { Config } from "./config/index.ts";
import type { Logger } from "./log/index.ts";
import { createPresence, type Presence } from "./presence/index.ts";
import { createLimiterFactory, type LimiterFactory } from "./ratelimit/index.ts";
import { createStores } from "./store/index.ts";
import type { Stores } from "./store/types.ts";

/** Every backend adapter, chosen by configuration in this one place: a URL selects the real one. */
export interface Backends {
  nodeId: string;
  stores: Stores;
  bus: MessageBus;
  backlog: Backlog;
  tokens: TokenService;
  /** Reporter for messaging nodes, view for presence nodes; each process starts only what it uses. */
  presence: Presence;
  /** Keyed rate limiters (login, sign-up) shared by every replica when Redis is configured. */
  limiters: LimiterFactory;
  close(): Promise<void>;
}

export function nodeIdFrom(config: Config): string {
  return config.NODE_ID ?? `${hostname()}-${process.pid}`;
}

export async function createBackends(config: Config, log: Logger): Promise<Backends> {
  const stores = await createStores(config);
  const bus = await createBus(config, { log });
  const backlog = await createBacklog(config);
  const nodeId = nodeIdFrom(config);
  const presence = createPresence(config, nodeId, log);
  const limiters = createLimiterFactory(config, log);
  log("info", "backends ready", {
    store: config.DATABASE_URL ? "postgres" : "sqlite",
    bus: config.KAFKA_BROKERS ? "kafka" : "sqlite-log",
    backlog: config.MONGO_URL ? "mongodb" : "sqlite",
    presence: config.REDIS_URL ? "redis" : "embedded",
    ratelimit: config.REDIS_URL ? "redis" : "memory",
  });
  return {
    nodeId,
    presence,
    limiters,
    stores,
    bus,
    backlog,
    tokens: tokenServiceFromConfig(config),
    async close() {
      await Promise.allSettled([bus.close(), backlog.close(), stores.close(), limiters.close()]);
    },
  };
}
