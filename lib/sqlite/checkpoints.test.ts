import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../testkit/eventually.ts";
import { checkpointOffThread } from "./checkpoints.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function walDatabase(): { db: Database; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-checkpoints-"));
  dirs.push(dir);
  const path = join(dir, "test.db");
  const db = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  return { db, path };
}

const autocheckpoint = (db: Database) =>
  db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()!.wal_autocheckpoint;

describe("WAL checkpoints off the writer's thread", () => {
  test("the writer's connection never checkpoints; the thread copies its WAL into the database file", async () => {
    const { db, path } = walDatabase();
    const stop = checkpointOffThread(db, path, () => {}, { everyMs: 20, maxWalBytes: 64 << 20 });
    expect(autocheckpoint(db)).toBe(0);
    const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
    const body = "x".repeat(1_000);
    // ~2 MB, well past the 1,000 pages at which SQLite would checkpoint inline.
    for (let batch = 0; batch < 20; batch++) {
      db.transaction(() => {
        for (let i = 0; i < 100; i++) insert.run(body);
      })();
      await Bun.sleep(2);
    }
    // Only a checkpoint writes pages into the database file, and this connection does not run one.
    await eventually(() => statSync(path).size > 2_000_000, "the database file to hold the rows", 5_000);
    stop();
    db.close();
  });

  test("stopping hands checkpoints back to the writer's connection; in-memory databases are left alone", () => {
    const { db, path } = walDatabase();
    const stop = checkpointOffThread(db, path);
    expect(autocheckpoint(db)).toBe(0);
    stop();
    expect(autocheckpoint(db)).toBe(1_000);
    db.close();

    const memory = new Database(":memory:");
    checkpointOffThread(memory, ":memory:")();
    expect(autocheckpoint(memory)).toBe(1_000);
  });
});
