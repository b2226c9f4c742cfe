import { join } from "node:path";
import type { Config } from "../config/index.ts";
import { createMongoBacklog } from "./mongo.ts";
import { createSqliteBacklog } from "./sqlite.ts";
import type { Backlog } from "./types.ts";

export { createMongoBacklog } from "./mongo.ts";
export { createSqliteBacklog } from "./sqlite.ts";
export type { Backlog } from "./types.ts";
export { BACKLOG_WRITER_GROUP, startBacklogWriter } from "./writer.ts";

/** The MongoDB backlog when MONGO_URL is set, otherwise SQLite at `${DATA_DIR}/backlog.db`. */
export async function createBacklog(config: Config): Promise<Backlog> {
  if (config.MONGO_URL) return createMongoBacklog(config.MONGO_URL, config.MONGO_DB);
  return createSqliteBacklog(join(config.DATA_DIR, "backlog.db"));
}
