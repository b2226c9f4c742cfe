/**
 * The WAL checkpoint thread (see checkpoints.ts): a connection of its own to each database it is
 * given, copying each one's WAL back into the database file every `everyMs`, and starting the WAL over
 * in a quiet moment the writer grants once it has grown past `restartWalBytes`.
 */
import { Database } from "bun:sqlite";
import { lowerThreadPriority } from "../threads/lower-priority.ts";

export type ToCheckpointer =
  | { kind: "add"; id: string; path: string; everyMs: number; restartWalBytes: number }
  /** The writer holds its commits now (answer to `hold`). */
  | { kind: "quiet"; id: string }
  | { kind: "remove"; id: string }
  | { kind: "close" };
export type FromCheckpointer =
  | { kind: "failed"; id: string; error: string }
  /** Please hold commits, then say `quiet`. */
  | { kind: "hold"; id: string }
  /** Commit again: the WAL has started over. */
  | { kind: "release"; id: string }
  | { kind: "closed" };

declare const self: Worker;

// Its work can wait a few milliseconds; the event loop's deliveries should not wait for it.
lowerThreadPriority();

interface Watched {
  id: string;
  db: Database;
  timer: ReturnType<typeof setInterval>;
  frameBytes: number;
  restartWalBytes: number;
  /** A hold asked and not yet released. */
  holding: boolean;
}

const watched = new Map<string, Watched>();

function failed(w: Watched, err: unknown): void {
  self.postMessage({ kind: "failed", id: w.id, error: String(err) } satisfies FromCheckpointer);
}

function checkpoint(w: Watched): void {
  if (w.holding) return;
  try {
    // PASSIVE copies what it can without waiting: the writer goes on committing meanwhile.
    const r = w.db.query<{ log: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get()!;
    // Under steady writes it never finds the WAL wholly copied, which SQLite needs to start it over:
    // past the bound, ask the writer to hold its commits while RESTART does.
    if (r.log * w.frameBytes > w.restartWalBytes) {
      w.holding = true;
      self.postMessage({ kind: "hold", id: w.id } satisfies FromCheckpointer);
    }
  } catch (err) {
    failed(w, err);
  }
}

function closeWatched(w: Watched): void {
  clearInterval(w.timer);
  w.db.close();
}

self.onmessage = (event: MessageEvent<ToCheckpointer>) => {
  const m = event.data;
  if (m.kind === "add") {
    const db = new Database(m.path, { strict: true });
    db.run("PRAGMA busy_timeout = 5000");
    const frameBytes = db.query<{ page_size: number }, []>("PRAGMA page_size").get()!.page_size + 24;
    const w: Watched = {
      id: m.id,
      db,
      frameBytes,
      restartWalBytes: m.restartWalBytes,
      holding: false,
      timer: setInterval(() => checkpoint(w), m.everyMs),
    };
    watched.set(m.id, w);
  } else if (m.kind === "quiet") {
    const w = watched.get(m.id);
    if (!w) return;
    try {
      // Copies what was committed since the last pass, then starts the WAL over (waiting for readers
      // of older frames, if any, as the writer is held): the writer waits that long.
      w.db.query("PRAGMA wal_checkpoint(RESTART)").get();
    } catch (err) {
      failed(w, err);
    } finally {
      w.holding = false;
      self.postMessage({ kind: "release", id: m.id } satisfies FromCheckpointer);
    }
  } else if (m.kind === "remove") {
    const w = watched.get(m.id);
    watched.delete(m.id);
    if (w) closeWatched(w);
  } else {
    for (const w of watched.values()) closeWatched(w);
    watched.clear();
    self.postMessage({ kind: "closed" } satisfies FromCheckpointer);
  }
};
