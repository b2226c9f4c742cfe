import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backlogContract } from "../../testkit/contracts/backlog.ts";
import { createSqliteBacklog } from "./sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "chattalk-backlog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sqlite backlog contract (:memory:)", () => {
  backlogContract({ open: async () => createSqliteBacklog(":memory:") });
});

describe("sqlite backlog contract (file)", () => {
  backlogContract({ open: async () => createSqliteBacklog(join(dir, "contract.db")) });
});

describe("sqlite backlog", () => {
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
});
