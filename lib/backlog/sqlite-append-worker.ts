/**
 * The embedded backlog's writer thread (a WriteThread, lib/sqlite/write-thread.ts): its own connection
 * to the backlog file, running each batch's transaction (prepareAppend) off the event loop, so the
 * commits — and the WAL checkpoints SQLite runs in the committing connection — never stall delivery.
 */
import type { ChatMessage } from "../chat/message.ts";
import { serveWrites } from "../sqlite/write-worker.ts";
import { prepareAppend } from "./sqlite-append.ts";

serveWrites<ChatMessage>(prepareAppend);
