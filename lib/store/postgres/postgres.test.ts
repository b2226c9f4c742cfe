import { describe, expect, test } from "bun:test";
import postgres from "postgres";
import { runStoreContract } from "../../../testkit/contracts/store.ts";
import { serviceUrl, skipWithout } from "../../../testkit/services.ts";
import { createPostgresStores } from "./index.ts";
import { loadMigrations, migratePostgres } from "./migrate.ts";

const url = serviceUrl("postgres");

/** A fresh schema per run, so reruns and parallel runs never see each other's rows. */
async function freshSchema(): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `chattalk_test_${Bun.randomUUIDv7().replace(/-/g, "").slice(-16)}`;
  const admin = postgres(url!, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    async drop() {
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

describe.skipIf(skipWithout("postgres"))("postgres adapter", () => {
  runStoreContract("postgres", async () => {
    const { schema, drop } = await freshSchema();
    const stores = await createPostgresStores(url!, { schema, max: 10 });
    return {
      stores,
      // A second postgres() client with its own pool, as another http-api process would have.
      openAnother: () => createPostgresStores(url!, { schema, max: 10 }),
      async dispose() {
        await stores.close();
        await drop();
      },
    };
  });

  test("migrations apply once, even when several clients start at the same time", async () => {
    const { schema, drop } = await freshSchema();
    const clients = [0, 1, 2].map(() =>
      postgres(url!, { max: 2, onnotice: () => {}, connection: { search_path: schema } }),
    );
    try {
      const results = await Promise.all(clients.map((sql) => migratePostgres(sql)));
      const all = await loadMigrations();
      expect(results.flat()).toHaveLength(all.length);
      expect(await migratePostgres(clients[0]!)).toEqual([]);
      const rows = await clients[0]!`SELECT version, name FROM schema_migrations ORDER BY version`;
      expect(rows.map((r) => r.version)).toEqual(all.map((m) => m.version));
    } finally {
      await Promise.all(clients.map((c) => c.end()));
      await drop();
    }
  });

  test("migration files are numbered NNN_name.sql without gaps", async () => {
    const all = await loadMigrations();
    expect(all.length).toBeGreaterThan(0);
    expect(all.map((m) => m.version)).toEqual(all.map((_, i) => i + 1));
  });
});
