import type { Database } from "bun:sqlite";
import type { RefWorker } from "../threads/ref-worker.ts";
import type { FromCheckpointer, ToCheckpointer } from "./checkpoint-worker.ts";

export interface CheckpointSettings {
  /** How often the thread copies the WAL back into the database file. */
  everyMs: number;
  /** Past this, the thread makes the writer wait while it resets the WAL (rare: see the worker). */
  maxWalBytes: number;
}

export const DEFAULT_CHECKPOINTS: CheckpointSettings = { everyMs: 1_000, maxWalBytes: 64 * 1024 * 1024 };

/** SQLite's own default: the committing connection checkpoints once the WAL holds 1,000 pages. */
const INLINE_AUTOCHECKPOINT = 1_000;

interface Entry {
  db: Database;
  onFailure: (error: string) => void;
}

let worker: RefWorker | undefined;
const entries = new Map<string, Entry>();

/**
 * Takes the WAL checkpoints of a database written on the event loop onto a thread of its own. SQLite
 * checkpoints in the committing connection once the WAL passes 1,000 pages, and a checkpoint fsyncs
 * the WAL and the database file: in the chat benchmark that held the event loop 1-16 ms at a time, ~6
 * times a second (`strace`: 137 ms of fsync in 12 s on the main thread). Here the writer's connection
 * never checkpoints (wal_autocheckpoint = 0); one thread per process, with a connection of its own to
 * each database, does (checkpoint-worker.ts). Once a second: each time the WAL is started over after
 * a checkpoint, the writer fsyncs its header (SQLite does so in synchronous=NORMAL), so checkpoints
 * every 200 ms still left the event loop 32 fsyncs in 10 s (102 ms, up to 20 ms); once a second, 9
 * (9 ms, at most 2.5 ms). Should that thread die, every database it served
 * checkpoints inline again, so the WAL never grows without bound. In-memory databases are left alone.
 * Returns the way to stop (the writer's connection checkpoints for itself again).
 */
export function checkpointOffThread(
  db: Database,
  path: string,
  onFailure: (error: string) => void = () => {},
  settings: CheckpointSettings = DEFAULT_CHECKPOINTS,
): () => void {
  if (path === ":memory:" || path === "") return () => {};
  const id = crypto.randomUUID();
  db.run("PRAGMA wal_autocheckpoint = 0");
  entries.set(id, { db, onFailure });
  thread().postMessage({ kind: "add", id, path, ...settings } satisfies ToCheckpointer);
  return () => {
    if (!entries.delete(id)) return;
    inline(db);
    const w = worker;
    if (!w) return;
    if (entries.size > 0) return w.postMessage({ kind: "remove", id } satisfies ToCheckpointer);
    // The last one: the thread closes its connections and ends; a later caller starts a new one.
    worker = undefined;
    w.addEventListener("message", (e: MessageEvent<FromCheckpointer>) => {
      if (e.data.kind === "closed") w.terminate();
    });
    w.postMessage({ kind: "close" } satisfies ToCheckpointer);
  };
}

function inline(db: Database): void {
  try {
    db.run(`PRAGMA wal_autocheckpoint = ${INLINE_AUTOCHECKPOINT}`);
  } catch {
    // Closed already: nothing left to checkpoint from here.
  }
}

function thread(): RefWorker {
  if (worker) return worker;
  // smol: a small heap for a thread that only runs PRAGMAs (the process' RSS +3 MB with it, +18 without).
  const w = new Worker(new URL("./checkpoint-worker.ts", import.meta.url).href, { smol: true }) as RefWorker;
  w.addEventListener("message", (e: MessageEvent<FromCheckpointer>) => {
    if (e.data.kind === "failed") entries.get(e.data.id)?.onFailure(e.data.error);
  });
  const died = (why: string) => {
    if (worker !== w) return;
    worker = undefined;
    for (const entry of entries.values()) {
      inline(entry.db);
      entry.onFailure(`checkpoint thread ended (${why}); checkpointing inline`);
    }
    entries.clear();
  };
  w.addEventListener("error", (e) => died(String((e as ErrorEvent).message ?? e)));
  w.addEventListener("close", () => died("closed"));
  // Checkpoints alone never keep the process alive.
  w.unref();
  worker = w;
  return w;
}
