import type { ChatMessage } from "../chat/message.ts";
import type { FromWriter, ToWriter } from "./sqlite-append-worker.ts";

/** Bun's Worker, which can stop keeping the process alive (the DOM typing of Worker lacks it). */
type RefWorker = Worker & { ref(): void; unref(): void };

/**
 * The main thread's side of the backlog's writer thread: append() resolves once the batch is
 * committed there, and rejects (the bus then redelivers the batch) when it was rolled back or the
 * thread died; a dead thread is replaced on the next append. Batches run one after another, in order.
 */
export class AppendThread {
  private worker: RefWorker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private closing: Promise<void> | undefined;

  constructor(private readonly path: string) {}

  append(messages: readonly ChatMessage[]): Promise<void> {
    if (this.closing) return Promise.reject(new Error("backlog is closed"));
    const worker = this.start();
    const id = ++this.nextId;
    if (this.waiting.size === 0) worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ kind: "append", id, json: JSON.stringify(messages) } satisfies ToWriter);
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
    const worker = new Worker(new URL("./sqlite-append-worker.ts", import.meta.url).href) as RefWorker;
    worker.addEventListener("message", (e: MessageEvent<FromWriter>) => {
      if (e.data.kind !== "done") return;
      const w = this.waiting.get(e.data.id);
      this.waiting.delete(e.data.id);
      if (this.waiting.size === 0) worker.unref();
      if (e.data.error === undefined) w?.resolve();
      else w?.reject(new Error(`backlog append failed: ${e.data.error}`));
    });
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(new Error(`backlog writer thread ended: ${why}`));
      this.waiting.clear();
    };
    worker.addEventListener("error", (e) => died(String((e as ErrorEvent).message ?? e)));
    worker.addEventListener("close", () => died("closed"));
    worker.postMessage({ kind: "open", path: this.path } satisfies ToWriter);
    // An idle thread does not keep the process alive; one with batches to answer does (append()).
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
