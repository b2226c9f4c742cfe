import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStoreContract } from "../../../testkit/contracts/store.ts";
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

describe("sqlite across processes", () => {
  test("four processes joining 1,000 users into a room with 5 free places admit exactly 5", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chattalk-store-"));
    const path = join(dir, "shared.db");
    const stores = createSqliteStores(path);
    try {
      const owner = await stores.users.createUser("proc-owner", "h");
      // The owner takes one of six places: five are left for the joiners.
      const room = await stores.rooms.createRoom({ name: "capped", ownerId: owner.id, maxMembers: 6 });
      const users = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => stores.users.createUser(`proc${i}`, "h")),
      );
      const worker = join(import.meta.dir, "../../../testkit/fixtures/sqlite-join-worker.ts");
      const outputs = await Promise.all(
        [0, 1, 2, 3].map(async (k) => {
          const ids = users.filter((_, i) => i % 4 === k).map((u) => u.id);
          const child = Bun.spawn([process.execPath, worker, path, room.id, ...ids], {
            stdout: "pipe",
            stderr: "inherit",
          });
          const out = await new Response(child.stdout).text();
          expect(await child.exited).toBe(0);
          return JSON.parse(out) as { admitted: number; full: number };
        }),
      );
      expect(outputs.reduce((n, o) => n + o.admitted, 0)).toBe(5);
      expect(outputs.reduce((n, o) => n + o.full, 0)).toBe(995);
      expect((await stores.rooms.getRoom(room.id))?.memberCount).toBe(6);
      expect(await stores.rooms.members(room.id)).toHaveLength(6);
    } finally {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
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

describe("username skeletons", () => {
  test("rows from before skeletons get theirs on open; a look-alike pair keeps one NULL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chattalk-store-"));
    try {
      const path = join(dir, "x.db");
      const first = createSqliteStores(path);
      await first.users.createUser("alice", "h");
      await first.users.createUser("zed", "h");
      await first.close();
      // As a database from before the skeleton column was filled: NULLs, and a look-alike pair.
      const db = new Database(path);
      db.exec("UPDATE users SET username_skeleton = NULL");
      db.exec(
        "INSERT INTO users (id, username, password_hash, created_at) VALUES ('x', 'аlice', 'h', 'now')",
      );
      db.close();
      const reopened = createSqliteStores(path);
      const check = new Database(path);
      const skeletons = check
        .query("SELECT username, username_skeleton AS s FROM users ORDER BY username")
        .all();
      check.close();
      expect(skeletons).toEqual([
        { username: "alice", s: "alice" },
        { username: "zed", s: "zed" },
        { username: "аlice", s: null },
      ]);
      const err = await reopened.users.createUser("alicé", "h").catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe("username_confusable");
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
