import { join } from "node:path";
import type { Config } from "../config/index.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import { createKafkaBus } from "./kafka.ts";
import { createSqliteBus } from "./sqlite-log.ts";
import type { MessageBus } from "./types.ts";

export { createKafkaBus, type KafkaBusOptions } from "./kafka.ts";
export { createSqliteBus, type SqliteBusOptions } from "./sqlite-log.ts";
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
    return createKafkaBus({
      brokers: config.KAFKA_BROKERS,
      topic: config.KAFKA_TOPIC,
      partitions: config.KAFKA_PARTITIONS,
      sendTimeoutMs: config.BUS_SEND_TIMEOUT_MS,
      ...(config.NODE_ID ? { nodeId: config.NODE_ID } : {}),
      log,
    });
  }
  return createSqliteBus(options.path ?? join(config.DATA_DIR, "bus.db"), { log });
}
