/**
 * Applies the Postgres migrations (lib/store/postgres/migrations) to DATABASE_URL and prints what it
 * applied. The http-api also migrates on start; this is for deploys that migrate as a separate step.
 *   DATABASE_URL=postgres://... bun run scripts/migrate.ts
 */
import postgres from "postgres";
import { loadConfig } from "../lib/config/index.ts";
import { migratePostgres } from "../lib/store/postgres/migrate.ts";

const config = loadConfig();
if (!config.DATABASE_URL) {
  process.stderr.write(
    "migrate: DATABASE_URL is not set (the embedded SQLite store migrates itself on start)\n",
  );
  process.exit(1);
}
const sql = postgres(config.DATABASE_URL, { max: 1, onnotice: () => {} });
try {
  const applied = await migratePostgres(sql);
  process.stdout.write(applied.length ? `migrate: applied ${applied.join(", ")}\n` : "migrate: up to date\n");
} catch (err) {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await sql.end({ timeout: 5 });
}
