import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backlogContract } from "../../testkit/contracts/backlog.ts";
import { createSqliteBacklog, READS } from "./sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "chattalk-backlog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The messages table as the first release made it, with the columns `added` since, for migration tests. */
function createOldMessages(db: Database, added?: string): void {
  db.run(`CREATE TABLE messages (
    room_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    sender_id TEXT NOT NULL, sender_name TEXT NOT NULL, text TEXT NOT NULL, sent_at TEXT NOT NULL,
    ${added ? `${added},` : ""} PRIMARY KEY (room_id, seq)) WITHOUT ROWID`);
}

describe("sqlite backlog contract (:memory:)", () => {
  backlogContract({ open: async () => createSqliteBacklog(":memory:") });
});

describe("sqlite backlog contract (file)", () => {
  backlogContract({ open: async () => createSqliteBacklog(join(dir, "contract.db")) });
});

describe("sqlite backlog contract (file, writer thread)", () => {
  backlogContract({
    open: async () => createSqliteBacklog(join(dir, "contract-thread.db"), { writerThread: true }),
  });
});

describe("sqlite backlog", () => {
  test("with a writer thread, a batch is readable here, and from another connection, once append() resolves", async () => {
    const path = join(dir, "thread.db");
    const backlog = createSqliteBacklog(path, { writerThread: true });
    const other = new Database(path, { readonly: true });
    const batch = Array.from({ length: 50 }, (_, i) => ({
      id: `m${i}`,
      roomId: "r",
      seq: i + 1,
      type: "message" as const,
      sender: { id: "u", username: "u" },
      text: `${i}`,
      sentAt: new Date().toISOString(),
    }));
    await backlog.append(batch);
    expect(other.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM messages").get()!.n).toBe(50);
    expect((await backlog.after("r", 0, 100)).map((m) => m.text)).toEqual(batch.map((m) => m.text));
    other.close();
    await backlog.close();
    const reopened = createSqliteBacklog(path, { writerThread: true });
    expect(await reopened.lastSeq("r")).toBe(50);
    await reopened.close();
  });

  test("with a writer thread, a batch that fails is rolled back whole and rejected; the next one is written", async () => {
    const backlog = createSqliteBacklog(join(dir, "thread-fail.db"), { writerThread: true });
    const message = (seq: number, text: unknown) => ({
      id: `m${seq}`,
      roomId: "r",
      seq,
      type: "message" as const,
      sender: { id: "u", username: "u" },
      text: text as string,
      sentAt: new Date().toISOString(),
    });
    // A text SQLite cannot bind: the second row fails, so the first must not stay either.
    await expect(backlog.append([message(1, "a"), message(2, { not: "text" })])).rejects.toThrow(
      "backlog append failed",
    );
    expect(await backlog.lastSeq("r")).toBe(0);
    await backlog.append([message(1, "a"), message(2, "b")]);
    expect((await backlog.after("r", 0, 10)).map((m) => m.text)).toEqual(["a", "b"]);
    await backlog.close();
  });

  test("messages survive reopening the file", async () => {
    const path = join(dir, "nested", "reopen.db");
    const first = createSqliteBacklog(path);
    const m = {
      id: "x",
      roomId: "r",
      seq: 7,
      type: "join" as const,
      sender: { id: "u", username: "u" },
      text: "",
      sentAt: "2026-01-01T00:00:00.000Z",
    };
    await first.append([m]);
    await first.close();
    const second = createSqliteBacklog(path);
    expect(await second.after("r", 0, 10)).toEqual([m]);
    await second.close();
    await expect(second.ping()).rejects.toThrow("closed");
  });

  test("a file from before edits and deletes is migrated in place and keeps its messages", async () => {
    const path = join(dir, "old.db");
    const old = new Database(path, { create: true });
    createOldMessages(old);
    old.run(
      "INSERT INTO messages VALUES ('r', 1, 'm1', 'message', 'u', 'ann', 'hi', '2026-01-01T00:00:00.000Z')",
    );
    old.close();
    const backlog = createSqliteBacklog(path);
    expect(await backlog.after("r", 0, 10)).toEqual([
      {
        id: "m1",
        roomId: "r",
        seq: 1,
        type: "message",
        sender: { id: "u", username: "ann" },
        text: "hi",
        sentAt: "2026-01-01T00:00:00.000Z",
      },
    ]);
    const edit = {
      id: "e",
      roomId: "r",
      seq: 2,
      type: "edit" as const,
      sender: { id: "u", username: "ann" },
      text: "hello",
      sentAt: "2026-01-01T00:00:01.000Z",
      target: { id: "m1", seq: 1 },
    };
    await backlog.append([edit]);
    expect((await backlog.after("r", 0, 1))[0]).toMatchObject({ text: "hello", editedAt: edit.sentAt });
    await backlog.close();
    // Opening it again applies nothing twice.
    const again = createSqliteBacklog(path);
    expect(await again.after("r", 0, 10)).toHaveLength(2);
    await again.close();
  });

  test("a file with the index by sender loses it; a name rewritten by an earlier deletion stays", async () => {
    const path = join(dir, "sender-index.db");
    const before = new Database(path, { create: true });
    createOldMessages(
      before,
      "client_msg_id TEXT, edited_at TEXT, deleted_at TEXT, extra TEXT, target_seq INTEGER, amended_seq INTEGER",
    );
    before.run("CREATE INDEX messages_sender ON messages (room_id, sender_id)");
    before.run("CREATE INDEX messages_chat ON messages (room_id, seq) WHERE type = 'message'");
    before.run(`INSERT INTO messages (room_id, seq, id, type, sender_id, sender_name, text, sent_at)
      VALUES ('r', 1, 'm1', 'message', 'u', 'deleted user', 'hi', '2026-01-01T00:00:00.000Z')`);
    before.run("PRAGMA user_version = 2");
    before.close();

    const backlog = createSqliteBacklog(path);
    expect((await backlog.after("r", 0, 10)).map((m) => m.sender.username)).toEqual(["deleted user"]);
    await backlog.close();
    const db = new Database(path, { readonly: true });
    const indexes = db
      .query<{ name: string }, []>("PRAGMA index_list(messages)")
      .all()
      .map((i) => i.name);
    db.close();
    expect(indexes).not.toContain("messages_sender");
    expect(indexes).toContain("messages_chat");
  });
});

test("every read is a search of the primary key: no table scan, no sort, whatever the table holds", async () => {
  const path = join(dir, "plans.db");
  await createSqliteBacklog(path).close();
  const db = new Database(path, { readonly: true });
  const args: Record<keyof typeof READS, (string | number)[]> = {
    after: ["r", 1, 5],
    before: ["r", 1, 5],
    countsAfter: ['{"r": 1}', 5],
    lastSeq: ["r"],
    unreadCounts: ['{"r": 1}', 5, "u"],
  };
  for (const [name, sql] of Object.entries(READS) as [keyof typeof READS, string][]) {
    const plan = db
      .query<{ detail: string }, (string | number)[]>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...args[name])
      .map((row) => row.detail);
    const onMessages = plan.filter((d) => /\b(messages|m)\b/.test(d));
    expect(onMessages.length, name).toBeGreaterThan(0);
    for (const step of onMessages) expect(step, name).toStartWith("SEARCH");
    expect(step(plan, /TEMP B-TREE/), name).toBeUndefined();
  }
  db.close();
});

const step = (plan: string[], pattern: RegExp) => plan.find((d) => pattern.test(d));
