/**
 * The thread side of a WriteThread (write-thread.ts): a worker module calls serveWrites with how to
 * prepare its write on its own connection to the file; each batch runs there and is answered by id
 * once committed, or with the error that rolled it back.
 */
import { Database } from "bun:sqlite";
import { lowerThreadPriority } from "../threads/lower-priority.ts";

export type ToWriter =
  | { kind: "open"; path: string }
  /** The batch as JSON: one string crosses to the thread far cheaper than cloning each object. */
  | { kind: "write"; id: number; json: string }
  | { kind: "close" };
export type FromWriter = { kind: "done"; id: number; error?: string } | { kind: "closed" };

declare const self: Worker;

/** Serves a WriteThread: `prepare` gets the thread's connection and returns the write of one batch. */
export function serveWrites<T>(prepare: (db: Database) => (batch: T[]) => void): void {
  // Its writes can wait a few milliseconds; the event loop's deliveries should not wait for them.
  lowerThreadPriority();
  let db: Database | undefined;
  let write: ((batch: T[]) => void) | undefined;
  self.onmessage = (event: MessageEvent<ToWriter>) => {
    const m = event.data;
    if (m.kind === "open") {
      db = new Database(m.path, { strict: true });
      db.run("PRAGMA synchronous = NORMAL");
      db.run("PRAGMA busy_timeout = 5000");
      write = prepare(db);
    } else if (m.kind === "write") {
      try {
        write!(JSON.parse(m.json) as T[]);
        self.postMessage({ kind: "done", id: m.id } satisfies FromWriter);
      } catch (err) {
        self.postMessage({ kind: "done", id: m.id, error: String(err) } satisfies FromWriter);
      }
    } else {
      db?.close();
      db = undefined;
      self.postMessage({ kind: "closed" } satisfies FromWriter);
    }
  };
}
