import type { RefWorker } from "../threads/ref-worker.ts";
import type { FromWriter, ToWriter } from "./write-worker.ts";

/**
 * The main thread's side of a SQLite writer thread (a worker module that calls serveWrites, with a
 * connection of its own to `path`): write() resolves once the batch is committed there, and rejects
 * when it was rolled back or the thread died; a dead thread is replaced on the next write. Batches run
 * one after another, in order. Used where a write on the event loop would hold delivery: the embedded
 * backlog's appends, the stores' read positions.
 */
export class WriteThread<T> {
  private worker: RefWorker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private closing: Promise<void> | undefined;

  constructor(
    /** The worker module (it calls serveWrites). */
    private readonly entry: URL,
    private readonly path: string,
    /** Named in errors: "backlog append", "read positions". */
    private readonly what: string,
  ) {}

  write(batch: readonly T[]): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`${this.what}: closed`));
    const worker = this.start();
    const id = ++this.nextId;
    if (this.waiting.size === 0) worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ kind: "write", id, json: JSON.stringify(batch) } satisfies ToWriter);
    });
  }

  /** Lets the batches already sent finish (the thread takes messages in order), then ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const worker = this.worker;
      if (!worker) return;
      await new Promise<void>((done) => {
        worker.addEventListener("message", (e: MessageEvent<FromWriter>) => {
          if (e.data.kind === "closed") done();
        });
        worker.addEventListener("close", () => done());
        worker.postMessage({ kind: "close" } satisfies ToWriter);
      });
      this.worker = undefined;
      worker.terminate();
    })();
    return this.closing;
  }

  private start(): RefWorker {
    if (this.worker) return this.worker;
    // smol: a small heap; the thread holds one batch at a time (the process RSS +3 MB a thread, not +15).
    const worker = new Worker(this.entry.href, { smol: true }) as RefWorker;
    worker.addEventListener("message", (e: MessageEvent<FromWriter>) => {
      if (e.data.kind !== "done") return;
      const w = this.waiting.get(e.data.id);
      this.waiting.delete(e.data.id);
      if (this.waiting.size === 0) worker.unref();
      if (e.data.error === undefined) w?.resolve();
      else w?.reject(new Error(`${this.what} failed: ${e.data.error}`));
    });
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(new Error(`${this.what} thread ended: ${why}`));
      this.waiting.clear();
    };
    worker.addEventListener("error", (e) => died(String((e as ErrorEvent).message ?? e)));
    worker.addEventListener("close", () => died("closed"));
    worker.postMessage({ kind: "open", path: this.path } satisfies ToWriter);
    // An idle thread does not keep the process alive; one with batches to answer does (write()).
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
