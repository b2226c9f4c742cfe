/**
 * The embedded backlog's writer thread: its own connection to the backlog file, running each batch's
 * transaction (prepareAppend) off the event loop, so the commits — and the WAL checkpoints SQLite runs
 * in the committing connection — never stall delivery. Asked by AppendThread; answers each batch by id
 * once it is committed, or with the error that rolled it back.
 */
import { Database } from "bun:sqlite";
import type { ChatMessage } from "../chat/message.ts";
import { prepareAppend } from "./sqlite-append.ts";

export type ToWriter =
  | { kind: "open"; path: string }
  /** The batch as JSON: one string crosses to the thread far cheaper than cloning each object. */
  | { kind: "append"; id: number; json: string }
  | { kind: "close" };
export type FromWriter = { kind: "done"; id: number; error?: string } | { kind: "closed" };

declare const self: Worker;

let db: Database | undefined;
let appendAll: ((messages: readonly ChatMessage[]) => void) | undefined;

self.onmessage = (event: MessageEvent<ToWriter>) => {
  const m = event.data;
  if (m.kind === "open") {
    db = new Database(m.path, { strict: true });
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA busy_timeout = 5000");
    appendAll = prepareAppend(db);
  } else if (m.kind === "append") {
    try {
      appendAll!(JSON.parse(m.json) as ChatMessage[]);
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
