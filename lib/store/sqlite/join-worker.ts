/**
 * Test helper run as a separate process by sqlite.test.ts: joins each given user into one room on a
 * shared database file and prints how many were admitted and refused as full.
 *   bun lib/store/sqlite/join-worker.ts <db-path> <room-id> <user-id>...
 */
import { ConflictError } from "../types.ts";
import { createSqliteStores } from "./index.ts";

const [path, roomId, ...userIds] = process.argv.slice(2);
const stores = createSqliteStores(path!);
let admitted = 0;
let full = 0;
for (const userId of userIds) {
  try {
    await stores.rooms.join(roomId!, userId, 0);
    admitted++;
  } catch (err) {
    if (!(err instanceof ConflictError && err.code === "room_full")) throw err;
    full++;
  }
}
await stores.close();
process.stdout.write(JSON.stringify({ admitted, full }));
