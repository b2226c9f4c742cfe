import postgres from "postgres";
import type { Stores } from "../types.ts";
import { migratePostgres } from "./migrate.ts";
import { postgresRoomStore } from "./rooms.ts";
import { backfillSkeletons, postgresUserStore } from "./users.ts";

export interface PostgresStoreOptions {
  /** Pool size; default 10. */
  max?: number;
  /** Run in this schema (search_path) instead of the user's default; the schema must exist. */
  schema?: string;
  /** Apply pending migrations before returning; default true. */
  migrate?: boolean;
}

/** Users and rooms on Postgres through postgres.js, migrated on start. */
export async function createPostgresStores(url: string, opts: PostgresStoreOptions = {}): Promise<Stores> {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: opts.schema ? { search_path: opts.schema } : {},
  });
  try {
    if (opts.migrate ?? true) {
      await migratePostgres(sql);
      await backfillSkeletons(sql);
    }
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
  return {
    users: postgresUserStore(sql),
    rooms: postgresRoomStore(sql),
    async ping() {
      await sql`SELECT 1`;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
