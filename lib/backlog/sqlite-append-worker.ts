/**
 * The embedded backlog's writer thread (a WriteThread, lib/sqlite/write-thread.ts): its own connection
 * to the backlog file, running each batch's transaction (prepareAppend) off the event loop, so the
 * commits — and the WAL checkpoints SQLite runs in the committing connection — never stall delivery.
 */
import type { ChatMessage } from "../chat/message.ts";
import { serveWrites } from "../sqlite/write-worker.ts";
import { prepareAppend } from "./sqlite-append.ts";

/**
 * The writer's page cache (SQLite's default is 2 MiB). Each message touches a leaf of two b-trees
 * (the key and the chat index) in its room's part of each, so 1,000 active rooms keep several MiB of
 * pages hot: with the default the thread re-read pages and spilled dirty ones to the WAL
 * mid-transaction (W2 at 5,000 members, then with a third b-tree, 3 s of strace: 32k preads and 49k
 * WAL writes; with this, 8k and 24k).
 */
const CACHE_KIB = 32 * 1024;

serveWrites<ChatMessage>((db) => {
  db.run(`PRAGMA cache_size = -${CACHE_KIB}`);
  return prepareAppend(db);
});
