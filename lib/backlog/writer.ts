import type { MessageBus, Unsubscribe } from "../bus/types.ts";
import { DEFAULT_DUPLICATE_RULE, type DuplicateRule } from "../delivery/duplicates.ts";
import { errorFields, type Logger, silentLogger } from "../log/index.ts";
import { EpochCheck, LogEpochError } from "./epochs.ts";
import type { Backlog } from "./types.ts";
import { WriterDuplicates } from "./writer-duplicates.ts";

/** The consumer group the backlog writers share; Kafka spreads its partitions over the replicas. */
export const BACKLOG_WRITER_GROUP = "chattalk-backlog-writer";

/**
 * Where a node's backlog writer runs, as lib/backends.ts picks it (chooseBacklogWriter): `inline`
 * on the node's own event loop, with the node's bus and backlog; or `thread`, in a Worker that opens
 * its own bus consumer and backlog from the same settings (writer-thread.ts). Either way the writer is
 * startBacklogWriter with these options, and the returned function stops it.
 */
export interface BacklogWriterRunner {
  start(bus: MessageBus, backlog: Backlog, options: BacklogWriterOptions): Promise<Unsubscribe>;
}

/** The writer on the caller's event loop: the embedded backends, whose backlog commits on a thread of its own. */
export const inlineBacklogWriter: BacklogWriterRunner = {
  start: (bus, backlog, options) => startBacklogWriter(bus, backlog, options),
};

export interface BacklogWriterOptions {
  log?: Logger;
  group?: string;
  /** Keeps each room's history to one bus log; pass the process's own to count its refusals. */
  epochs?: EpochCheck;
  /** Which copies of a client message are retries' (not stored): the same rule as the fan-out's. */
  duplicates?: DuplicateRule;
}

/**
 * Copies every bus message into the backlog. The bus commits a batch only after append() resolves and
 * redelivers it when append() rejects, and append() is idempotent on (room, seq): so a crash or a
 * backlog outage delays writes but neither loses nor duplicates one. A retried SEND's copies past the
 * first are left out, as every fan-out leaves them out (WriterDuplicates). A batch from another bus log than
 * a room's stored history is refused the same way (EpochCheck), so it is retried, never dropped. Runs in
 * every ws-node; the consumer group decides which node writes which partitions and moves them when a
 * node dies.
 */
export function startBacklogWriter(
  bus: MessageBus,
  backlog: Backlog,
  options: BacklogWriterOptions = {},
): Promise<Unsubscribe> {
  const { log = silentLogger, group = BACKLOG_WRITER_GROUP } = options;
  const epochs = options.epochs ?? new EpochCheck(backlog, log);
  const duplicates = new WriterDuplicates(backlog, options.duplicates ?? DEFAULT_DUPLICATE_RULE);
  let failing = false;
  return bus.consume(group, async (batch) => {
    try {
      await epochs.beforeWrite(batch);
      await backlog.append(await duplicates.keep(batch));
    } catch (err) {
      // EpochCheck has logged its refusal as an error already.
      if (!failing && !(err instanceof LogEpochError)) {
        log("warn", "backlog write failed; the bus will redeliver", errorFields(err));
      }
      failing = true;
      throw err;
    }
    if (failing) log("info", "backlog writes recovered", { messages: batch.length });
    failing = false;
  });
}
