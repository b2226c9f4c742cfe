/**
 * The threads password work runs on: Bun Workers (lib/auth/password-worker.ts) started when first
 * needed, each doing one job at a time. The WorkPool in front of them never runs more jobs than there
 * are threads; a thread that dies fails its job and is replaced by the next one needed.
 */
import type { RefWorker } from "../threads/ref-worker.ts";

export type ThreadJob =
  | { op: "hash"; password: string; memoryCost: number; timeCost: number }
  | { op: "verify"; password: string; hash: string };

/** Messages to and from a worker. */
export type PasswordJob = ThreadJob & { id: number };
export type PasswordResult =
  | { id: number; ok: true; value: string | boolean }
  | { id: number; ok: false; error: string };

interface Thread {
  worker: RefWorker;
  dead: boolean;
  waiter?: { id: number; resolve(v: string | boolean): void; reject(e: Error): void };
}

const WORKER = new URL("./password-worker.ts", import.meta.url).href;

export class PasswordThreads {
  private readonly idle: Thread[] = [];
  private alive = 0;
  private nextId = 1;

  constructor(private readonly size: number) {}

  /** Runs one job on an idle thread; callers (the pool) never ask for more than `size` at once. */
  async run(job: ThreadJob): Promise<string | boolean> {
    const thread = this.take();
    const id = this.nextId++;
    try {
      // Held only while it works: an idle thread never keeps the process alive (a script that hashed
      // a password would otherwise never exit).
      thread.worker.ref();
      return await new Promise<string | boolean>((resolve, reject) => {
        thread.waiter = { id, resolve, reject };
        thread.worker.postMessage({ ...job, id } satisfies PasswordJob);
      });
    } finally {
      thread.worker.unref();
      thread.waiter = undefined;
      if (!thread.dead) this.idle.push(thread);
    }
  }

  private take(): Thread {
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.alive >= this.size) throw new Error("no idle password thread: the pool let too many jobs in");
    this.alive++;
    const thread: Thread = { worker: new Worker(WORKER, { smol: true }) as RefWorker, dead: false };
    thread.worker.onmessage = (event: MessageEvent<PasswordResult>) => {
      const r = event.data;
      const w = thread.waiter;
      if (!w || w.id !== r.id) return;
      if (r.ok) w.resolve(r.value);
      else w.reject(new Error(r.error));
    };
    thread.worker.onerror = (event) => {
      // The thread is gone: fail its job; a new one is started when next needed.
      thread.dead = true;
      this.alive--;
      thread.waiter?.reject(new Error(`password thread failed: ${event.message}`));
      thread.worker.terminate();
    };
    return thread;
  }
}
