import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "postgres";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const migrationsDir = join(import.meta.dir, "migrations");

/** The migration files `NNN_name.sql`, in version order. */
export async function loadMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort();
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: await Bun.file(join(dir, file)).text(),
    })),
  );
}

/**
 * Applies the migrations not yet recorded in schema_migrations, in one transaction under an advisory
 * lock, so several processes starting at once apply each exactly once. Returns the names applied.
 */
export async function migratePostgres(sql: Sql, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('chattalk.migrate.' || current_schema()))`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
    const done = new Set(
      (await tx<{ version: number }[]>`SELECT version FROM schema_migrations`).map((r) => r.version),
    );
    const applied: string[] = [];
    for (const m of all) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(`${String(m.version).padStart(3, "0")}_${m.name}`);
    }
    return applied;
  });
}
