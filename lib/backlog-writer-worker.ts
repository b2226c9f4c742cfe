/**
 * The backlog writer's thread (lib/backlog/writer-thread.ts has the node's side and says why). It opens
 * its own bus and backlog from the process's settings through lib/backends.ts — which is why it lives
 * here and not in lib/backlog/, whose adapters never read settings — and runs startBacklogWriter on
 * them. Its log lines and epoch refusals go to the node's side by message.
 */
import { chooseBacklog, openBus } from "./backends.ts";
import { EpochCheck } from "./backlog/epochs.ts";
import { startBacklogWriter } from "./backlog/writer.ts";
import type { FromWriterThread, ToWriterThread } from "./backlog/writer-thread.ts";
import type { LoggedMessage } from "./chat/message.ts";
import type { Config } from "./config/index.ts";
import { errorFields, type Logger } from "./log/index.ts";
import { lowerThreadPriority } from "./threads/lower-priority.ts";

declare const self: Worker;

// Its work can wait a few milliseconds; the event loop's deliveries should not wait for it.
lowerThreadPriority();

const post = (m: FromWriterThread) => self.postMessage(m);

/** A log field as it can cross threads: a value that cannot be cloned goes as text. */
const crossable = (value: unknown): unknown => {
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
};

/** The process logger's lines, written by the node's side: its level filter and fields apply. */
const log: Logger = (level, msg, fields) => {
  try {
    post({ kind: "log", level, msg, fields });
  } catch {
    const safe = Object.fromEntries(Object.entries(fields ?? {}).map(([k, v]) => [k, crossable(v)]));
    post({ kind: "log", level, msg, fields: safe });
  }
};

/** The writer's EpochCheck, telling the node's side of each refusal: the node's count is the metric. */
class ReportingEpochCheck extends EpochCheck {
  private reported = 0;

  override async beforeWrite(batch: readonly LoggedMessage[]): Promise<void> {
    try {
      await super.beforeWrite(batch);
    } finally {
      if (this.conflicts > this.reported) {
        post({ kind: "conflicts", added: this.conflicts - this.reported });
        this.reported = this.conflicts;
      }
    }
  }
}

/** Opens bus and backlog and starts the writer; resolves with how to close it all, or undefined when it could not. */
async function start(
  m: Extract<ToWriterThread, { kind: "start" }>,
): Promise<(() => Promise<void>) | undefined> {
  const config = m.settings as Config;
  const opened: { close(): Promise<void> }[] = [];
  try {
    const bus = await openBus(config, log);
    opened.push(bus);
    const backlog = await chooseBacklog(config, log).open();
    opened.push(backlog);
    const epochs = new ReportingEpochCheck(backlog, log);
    const stopWriter = await startBacklogWriter(bus, backlog, {
      log,
      epochs,
      group: m.group,
      duplicates: m.duplicates,
    });
    return async () => {
      // Leaves the consumer group first, so its partitions go to the other writers at once.
      await stopWriter();
      await Promise.allSettled(opened.map((o) => o.close()));
    };
  } catch (err) {
    log("error", "backlog writer thread could not start; it will be started again", errorFields(err));
    await Promise.allSettled(opened.map((o) => o.close()));
    post({ kind: "failed" });
    return undefined;
  }
}

let running: ReturnType<typeof start> | undefined;

self.onmessage = async (event: MessageEvent<ToWriterThread>) => {
  const m = event.data;
  if (m.kind === "start") {
    running = start(m);
    return;
  }
  // A stop during start waits for it, then closes whatever it opened.
  const close = await running;
  try {
    await close?.();
  } catch (err) {
    log("warn", "backlog writer thread did not close cleanly", errorFields(err));
  }
  post({ kind: "stopped" });
};
