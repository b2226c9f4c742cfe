import type { MessageBus, Unsubscribe } from "../bus/types.ts";
import { errorFields, type Logger, silentLogger } from "../log/index.ts";
import type { Backlog } from "./types.ts";

/** The consumer group the backlog writers share; Kafka spreads its partitions over the replicas. */
export const BACKLOG_WRITER_GROUP = "chattalk-backlog-writer";

/**
 * Copies every bus message into the backlog. The bus commits a batch only after append() resolves and
 * redelivers it when append() rejects, and append() is idempotent on (room, seq): so a crash or a
 * backlog outage delays writes but neither loses nor duplicates one. Runs in every ws-node; the consumer
 * group decides which node writes which partitions and moves them when a node dies.
 */
export function startBacklogWriter(
  bus: MessageBus,
  backlog: Backlog,
  log: Logger = silentLogger,
  group = BACKLOG_WRITER_GROUP,
): Promise<Unsubscribe> {
  let failing = false;
  return bus.consume(group, async (batch) => {
    try {
      await backlog.append(batch);
    } catch (err) {
      if (!failing) log("warn", "backlog write failed; the bus will redeliver", errorFields(err));
      failing = true;
      throw err;
    }
    if (failing) log("info", "backlog writes recovered", { messages: batch.length });
    failing = false;
  });
}
