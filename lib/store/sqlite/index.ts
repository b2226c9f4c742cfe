import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type Logger, silentLogger } from "../../log/index.ts";
import { checkpointOffThread } from "../../sqlite/checkpoints.ts";
import { WriteThread } from "../../sqlite/write-thread.ts";
import type { ReadPosition, Stores } from "../types.ts";
import { sqliteRoomStore } from "./rooms.ts";
import { migrateSqlite } from "./schema.ts";
import { backfillSkeletons, sqliteUserStore } from "./users.ts";

/**
 * The embedded stores on one SQLite file (or ":memory:"). WAL lets readers run beside the one writer;
 * busy_timeout makes a second process wait for the write lock rather than fail.
 */
export function createSqliteStores(path: string, log: Logger = silentLogger): Stores {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA synchronous = NORMAL");
  // Read positions, joins and sign-ups commit on the event loop; their checkpoints need not.
  const stopCheckpoints = checkpointOffThread(db, path, {
    onFailure: (error) => log("warn", "stores: WAL checkpoint failed", { path, error }),
  });
  migrateSqlite(db);
  backfillSkeletons(db);
  // Read positions are saved every 100 ms from every connection's confirmations: off the event loop.
  const positions =
    path === ":memory:"
      ? undefined
      : new WriteThread<ReadPosition>(
          new URL("./read-positions-worker.ts", import.meta.url),
          path,
          "read positions",
        );
  return {
    users: sqliteUserStore(db),
    rooms: positions ? sqliteRoomStore(db, (p) => positions.write(p)) : sqliteRoomStore(db),
    async ping() {
      db.query("SELECT 1").get();
    },
    async close() {
      await positions?.close();
      stopCheckpoints();
      db.close();
    },
  };
}
