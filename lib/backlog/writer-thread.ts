import type { MessageBus, Unsubscribe } from "../bus/types.ts";
import type { DuplicateRule } from "../delivery/duplicates.ts";
import { type Logger, silentLogger } from "../log/index.ts";
import type { RefWorker } from "../threads/ref-worker.ts";
import type { Backlog } from "./types.ts";
import type { BacklogWriterOptions, BacklogWriterRunner } from "./writer.ts";

/** What the node's side tells the writer's thread. */
export type ToWriterThread =
  | {
      kind: "start";
      /** What the thread opens its bus and backlog from (the process's validated settings). */
      settings: unknown;
      group?: string;
      duplicates?: DuplicateRule;
    }
  | { kind: "stop" };

/** What the writer's thread tells the node's side. */
export type FromWriterThread =
  | { kind: "log"; level: Parameters<Logger>[0]; msg: string; fields?: Record<string, unknown> }
  /** Epoch refusals (EpochCheck) since the last report. */
  | { kind: "conflicts"; added: number }
  /** It could not open its bus or backlog (logged): it is ended and started again. */
  | { kind: "failed" }
  /** Its consumer has left the group and its clients are closed: it may be ended. */
  | { kind: "stopped" };

export interface WriterThreadSpec {
  /** The thread's module (lib/backlog-writer-worker.ts): it opens bus and backlog from `settings`. */
  entry: URL;
  settings: unknown;
  /** First and longest wait before a thread that died is started again. */
  restartMinMs?: number;
  restartMaxMs?: number;
  /** How long stop() waits for the consumer to leave its group before it ends the thread anyway. */
  stopTimeoutMs?: number;
}

/**
 * The backlog writer in a thread of its own (a Bun Worker), for the cluster's backends. On Kafka and
 * MongoDB its work — decoding its consumer group's fetches, encoding BSON — was ~30% of a ws-node's
 * one JavaScript thread (3% with this thread; issue 16), all of it competing with delivery. The
 * thread opens its own consumer and MongoDB client and runs startBacklogWriter there, so the
 * guarantees are that writer's: a batch is committed only after its append, else redelivered — to a
 * new thread, or to whichever replica the group gives the partitions to while this one is down. This
 * side forwards the thread's log lines to the process logger and its epoch refusals to the node's
 * count (the metric), starts a thread that died again after a backoff, and on stop lets its consumer
 * leave the group (Kafka moves the partitions at once) before ending it. The thread never keeps the
 * process alive by itself, only while it is being stopped.
 */
export class BacklogWriterThread implements BacklogWriterRunner {
  /** Threads started again after one died. */
  restarts = 0;
  private current: RefWorker | undefined;
  private options: BacklogWriterOptions = {};
  private log: Logger = silentLogger;
  private started = false;
  private stopping: Promise<void> | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private delay: number;
  private startedAt = 0;

  constructor(private readonly spec: WriterThreadSpec) {
    this.delay = spec.restartMinMs ?? 500;
  }

  /** The running thread, if one is. */
  get worker(): Worker | undefined {
    return this.current;
  }

  /** Starts the thread; `bus` and `backlog` are the node's, which the thread cannot use: it opens its own. */
  async start(_bus: MessageBus, _backlog: Backlog, options: BacklogWriterOptions): Promise<Unsubscribe> {
    if (this.started) throw new Error("a BacklogWriterThread starts once");
    this.started = true;
    this.options = options;
    this.log = options.log ?? silentLogger;
    this.spawn();
    return () => this.stop();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      const worker = this.current;
      if (!worker) return;
      // Held alive until it has left: the process may have nothing else left to wait for.
      worker.ref();
      const ended = new Promise<void>((resolve) => worker.addEventListener("close", () => resolve()));
      worker.postMessage({ kind: "stop" } satisfies ToWriterThread);
      const timeoutMs = this.spec.stopTimeoutMs ?? 10_000;
      const late = setTimeout(() => {
        this.log("warn", "backlog writer thread did not stop in time; ending it", { timeoutMs });
        worker.terminate();
      }, timeoutMs);
      await ended;
      clearTimeout(late);
    })();
    return this.stopping;
  }

  private spawn(): void {
    const worker = new Worker(this.spec.entry.href) as RefWorker;
    this.current = worker;
    this.startedAt = Date.now();
    worker.addEventListener("message", (e: MessageEvent<FromWriterThread>) => this.onMessage(worker, e.data));
    worker.addEventListener("error", (e) => {
      e.preventDefault();
      const error = (e as ErrorEvent).error;
      this.log("error", "backlog writer thread failed; ending it", {
        err: String(error ?? (e as ErrorEvent).message),
        ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
      });
      worker.terminate();
    });
    worker.addEventListener("close", () => this.ended(worker));
    worker.unref();
    const { group, duplicates } = this.options;
    worker.postMessage({
      kind: "start",
      settings: this.spec.settings,
      group,
      duplicates,
    } satisfies ToWriterThread);
  }

  private onMessage(worker: RefWorker, m: FromWriterThread): void {
    if (m.kind === "log") this.log(m.level, m.msg, m.fields);
    else if (m.kind === "conflicts") {
      // The node's EpochCheck count is the process's metric (observeEpochConflicts): the thread's
      // refusals are the process's too.
      if (this.options.epochs) this.options.epochs.conflicts += m.added;
    } else worker.terminate(); // failed (logged there; started again below) or stopped
  }

  /** A thread ended: on stop, that is all; otherwise it died, and a new one starts after a backoff. */
  private ended(worker: RefWorker): void {
    if (this.current !== worker) return;
    this.current = undefined;
    if (this.stopping) return;
    const maxMs = this.spec.restartMaxMs ?? 30_000;
    // One that had run a good while is not failing at start: begin again from the shortest wait.
    if (Date.now() - this.startedAt >= maxMs) this.delay = this.spec.restartMinMs ?? 500;
    this.log("warn", "backlog writer thread ended; starting a new one", { inMs: this.delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.spawn();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, maxMs);
  }
}
