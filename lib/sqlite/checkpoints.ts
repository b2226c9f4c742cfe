import type { Database } from "bun:sqlite";
import type { RefWorker } from "../threads/ref-worker.ts";
import type { FromCheckpointer, ToCheckpointer } from "./checkpoint-worker.ts";

export interface CheckpointSettings {
  /** How often the thread copies the WAL back into the database file. */
  everyMs: number;
  /** Past this, the thread starts the WAL over in a quiet moment the writer grants. */
  restartWalBytes: number;
}

export const DEFAULT_CHECKPOINTS: CheckpointSettings = { everyMs: 1_000, restartWalBytes: 64 * 1024 * 1024 };

/**
 * The writer's side of a WAL restart. While held, the writer commits nothing (it queues its writes);
 * released, it commits what it queued. A writer without one is not held: the RESTART waits for its
 * transaction, and its next commit for the RESTART (in SQLite's busy handler).
 */
export interface WriteHold {
  hold(): void;
  release(): void;
}

/**
 * Longest a writer is held, against a thread that stopped answering (one that ended releases at
 * once): a hold normally lasts 40-65 ms in the chat benchmark.
 */
const HOLD_MAX_MS = 1_000;

export interface CheckpointOptions {
  onFailure?: (error: string) => void;
  settings?: CheckpointSettings;
  writes?: WriteHold;
}

/** SQLite's own default: the committing connection checkpoints once the WAL holds 1,000 pages. */
const INLINE_AUTOCHECKPOINT = 1_000;

interface Entry {
  db: Database;
  onFailure: (error: string) => void;
  writes: WriteHold | undefined;
  /** Set while the writer is held: releases it early, should the thread not answer. */
  holdTimer: ReturnType<typeof setTimeout> | undefined;
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
 * (9 ms, at most 2.5 ms).
 *
 * The WAL starts over only once wholly copied, which under steady writes a passive checkpoint never
 * leaves behind (what is committed during the pass remains). So past `restartWalBytes` the thread asks
 * for a quiet moment (`writes`): the writer holds its writes (they queue) while a RESTART checkpoint
 * copies the last frames, syncs and starts the WAL over. In the chat benchmark (the WAL grows 4 MB/s
 * there) that is once every 16 s, for 40-65 ms (the two fsyncs); the chat step it falls in has a
 * p99 of 8-12 ms, against 4-5 for the others. Before, the thread's TRUNCATE took the write lock
 * while the writer went on committing: the writer then slept in SQLite's busy handler, in steps
 * growing to 100 ms, and the event loop stalled 110-240 ms (that step's p99: 110-170 ms). A writer
 * without `writes` is simply waited for. Should the thread die, every database it served
 * checkpoints inline again, so the WAL never grows without bound. In-memory databases are left alone.
 * Returns the way to stop (the writer's connection checkpoints for itself again).
 */
export function checkpointOffThread(db: Database, path: string, options: CheckpointOptions = {}): () => void {
  if (path === ":memory:" || path === "") return () => {};
  const settings = options.settings ?? DEFAULT_CHECKPOINTS;
  const id = crypto.randomUUID();
  db.run("PRAGMA wal_autocheckpoint = 0");
  // A WAL that grew past the restart size (a reader held it) shrinks back when it next starts over.
  db.run(`PRAGMA journal_size_limit = ${settings.restartWalBytes}`);
  entries.set(id, {
    db,
    onFailure: options.onFailure ?? (() => {}),
    writes: options.writes,
    holdTimer: undefined,
  });
  thread().postMessage({ kind: "add", id, path, ...settings } satisfies ToCheckpointer);
  return () => {
    const entry = entries.get(id);
    if (!entry) return;
    entries.delete(id);
    release(entry);
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

function hold(w: RefWorker, id: string): void {
  const entry = entries.get(id);
  if (!entry) return;
  if (entry.writes && !entry.holdTimer) {
    entry.writes.hold();
    entry.holdTimer = setTimeout(() => release(entry), HOLD_MAX_MS);
  }
  w.postMessage({ kind: "quiet", id } satisfies ToCheckpointer);
}

function release(entry: Entry): void {
  if (!entry.holdTimer) return;
  clearTimeout(entry.holdTimer);
  entry.holdTimer = undefined;
  entry.writes?.release();
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
    const m = e.data;
    if (m.kind === "failed") entries.get(m.id)?.onFailure(m.error);
    else if (m.kind === "hold") hold(w, m.id);
    else if (m.kind === "release") {
      const entry = entries.get(m.id);
      if (entry) release(entry);
    }
  });
  const died = (why: string) => {
    if (worker !== w) return;
    worker = undefined;
    for (const entry of entries.values()) {
      release(entry);
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
