/**
 * The WAL checkpoint thread (see checkpoints.ts): a connection of its own to each database it is
 * given, copying each one's WAL back into the database file every `everyMs`.
 */
import { Database } from "bun:sqlite";
import { lowerThreadPriority } from "../threads/lower-priority.ts";

export type ToCheckpointer =
  | { kind: "add"; id: string; path: string; everyMs: number; maxWalBytes: number }
  | { kind: "remove"; id: string }
  | { kind: "close" };
export type FromCheckpointer = { kind: "failed"; id: string; error: string } | { kind: "closed" };

declare const self: Worker;

// Its work can wait a few milliseconds; the event loop's deliveries should not wait for it.
lowerThreadPriority();

interface Watched {
  db: Database;
  timer: ReturnType<typeof setInterval>;
}

const watched = new Map<string, Watched>();

function checkpoint(id: string, db: Database, frameBytes: number, maxWalBytes: number): void {
  try {
    // PASSIVE copies what it can without waiting: the writer goes on committing meanwhile.
    const r = db.query<{ log: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get()!;
    // Under steady writes a passive checkpoint rarely finds the WAL wholly copied, and only then can
    // SQLite start it over; past the bound, TRUNCATE waits for the writer (once, briefly) to reset it.
    if (r.log * frameBytes > maxWalBytes) db.query("PRAGMA wal_checkpoint(TRUNCATE)").get();
  } catch (err) {
    self.postMessage({ kind: "failed", id, error: String(err) } satisfies FromCheckpointer);
  }
}

self.onmessage = (event: MessageEvent<ToCheckpointer>) => {
  const m = event.data;
  if (m.kind === "add") {
    const db = new Database(m.path, { strict: true });
    db.run("PRAGMA busy_timeout = 5000");
    const frameBytes = db.query<{ page_size: number }, []>("PRAGMA page_size").get()!.page_size + 24;
    const timer = setInterval(() => checkpoint(m.id, db, frameBytes, m.maxWalBytes), m.everyMs);
    watched.set(m.id, { db, timer });
  } else if (m.kind === "remove") {
    const w = watched.get(m.id);
    watched.delete(m.id);
    if (w) {
      clearInterval(w.timer);
      w.db.close();
    }
  } else {
    for (const w of watched.values()) {
      clearInterval(w.timer);
      w.db.close();
    }
    watched.clear();
    self.postMessage({ kind: "closed" } satisfies FromCheckpointer);
  }
};
