import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/index.ts";
import { createPostgresStores } from "./postgres/index.ts";
import { createSqliteStores } from "./sqlite/index.ts";
import type { Stores } from "./types.ts";

export type * from "./types.ts";
export { ConflictError, RoomNotFoundError } from "./types.ts";
export { isValidUsername, normalizeUsername } from "./username.ts";

/** Postgres when DATABASE_URL is set (migrated on start), otherwise SQLite at `${DATA_DIR}/chattalk.db`. */
export async function createStores(config: Config): Promise<Stores> {
  if (config.DATABASE_URL) return createPostgresStores(config.DATABASE_URL);
  mkdirSync(config.DATA_DIR, { recursive: true });
  return createSqliteStores(join(config.DATA_DIR, "chattalk.db"));
}
