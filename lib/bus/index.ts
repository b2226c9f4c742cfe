import { join } from "node:path";
import type { Config } from "../config/index.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { createMemoryBus } from "./memory.ts";
import type { MessageBus } from "./types.ts";

export { createMemoryBus, type MemoryBusOptions } from "./memory.ts";
export * from "./types.ts";

export interface CreateBusOptions {
  log?: Logger;
  /** Embedded bus file, overriding `${DATA_DIR}/bus.db`; ":memory:" for a throwaway log. */
  path?: string;
}

/** The Kafka bus when KAFKA_BROKERS is set, otherwise the embedded SQLite-backed bus. */
export async function createBus(config: Config, options: CreateBusOptions = {}): Promise<MessageBus> {
  const log = options.log ?? silentLogger;
  if (config.KAFKA_BROKERS) {
    throw new Error(
      "KAFKA_BROKERS is set but the Kafka bus adapter is not in this build yet (lib/bus/kafka.ts)",
    );
  }
  return createMemoryBus(options.path ?? join(config.DATA_DIR, "bus.db"), { log });
}
