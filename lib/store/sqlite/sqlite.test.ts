import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStoreContract } from "../contract.ts";
import { createSqliteStores } from "./index.ts";
import { migrateSqlite } from "./schema.ts";

// A file, not ":memory:", so the second client is a separate connection to the same database.
runStoreContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-store-"));
  const path = join(dir, "chattalk.db");
  const stores = createSqliteStores(path);
  return {
    stores,
    async openAnother() {
      return createSqliteStores(path);
    },
    async dispose() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("sqlite schema", () => {
  test("migrating twice is a no-op and the database is in WAL mode", () => {
    const dir = mkdtempSync(join(tmpdir(), "chattalk-store-"));
    try {
      const path = join(dir, "x.db");
      createSqliteStores(path);
      const db = new Database(path);
      const version = () => (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
      const before = version();
      expect(before).toBeGreaterThan(0);
      migrateSqlite(db);
      expect(version()).toBe(before);
      expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(":memory: works for tests and tools", async () => {
    const stores = createSqliteStores(":memory:");
    await stores.ping();
    const user = await stores.users.createUser("memory-user", "h");
    expect(await stores.users.findById(user.id)).toEqual(user);
    await stores.close();
  });
});
