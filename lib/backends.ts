import { hostname } from "node:os";
import { type TokenService, tokenServiceFromConfig } from "./auth/index.ts";
import { createBacklog } from "./backlog/index.ts";
import type { Backlog } from "./backlog/types.ts";
import { createBus } from "./bus/index.ts";
import type { MessageBus } from "./bus/types.ts";
import type { Config } from "./config/index.ts";
import type { Logger } from "./log/index.ts";
import { createStores } from "./store/index.ts";
import type { Stores } from "./store/types.ts";

/** Every backend adapter, chosen by configuration in this one place: a URL selects the real one. */
export interface Backends {
  nodeId: string;
  stores: Stores;
  bus: MessageBus;
  backlog: Backlog;
  tokens: TokenService;
  close(): Promise<void>;
}

export function nodeIdFrom(config: Config): string {
  return config.NODE_ID ?? `${hostname()}-${process.pid}`;
}

export async function createBackends(config: Config, log: Logger): Promise<Backends> {
  const stores = await createStores(config);
  const bus = await createBus(config, { log });
  const backlog = await createBacklog(config);
  log("info", "backends ready", {
    store: config.DATABASE_URL ? "postgres" : "sqlite",
    bus: config.KAFKA_BROKERS ? "kafka" : "embedded",
    backlog: config.MONGO_URL ? "mongodb" : "sqlite",
  });
  return {
    nodeId: nodeIdFrom(config),
    stores,
    bus,
    backlog,
    tokens: tokenServiceFromConfig(config),
    async close() {
      await Promise.allSettled([bus.close(), backlog.close(), stores.close()]);
    },
  };
}
