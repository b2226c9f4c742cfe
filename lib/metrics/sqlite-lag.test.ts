import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../testkit/eventually.ts";
import { BACKLOG_WRITER_GROUP } from "../backlog/writer.ts";
import { createSqliteBus } from "../bus/sqlite-log.ts";
import { newDraft } from "../chat/message.ts";
import { parseConfig } from "../config/index.ts";
import { backlogWriterLagProbe } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "chattalk-sqlite-lag-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const alice = { id: "u-alice", username: "alice" };

test("without Kafka the backlog writer's lag is read from the embedded bus.db: unread, caught up, behind", async () => {
  const config = parseConfig({ DATA_DIR: dir, JWT_SECRET: "x".repeat(32) });
  const bus = createSqliteBus(join(dir, "bus.db"), { consumeLingerMs: 0 });
  const probe = backlogWriterLagProbe(config);
  expect([probe.group, probe.topic]).toEqual([BACKLOG_WRITER_GROUP, "bus.db"]);
  for (let i = 0; i < 5; i++) await bus.publish(newDraft("r", "message", alice, `${i}`));
  expect((await probe.measure()).total).toBe(5); // never committed: everything the log holds

  let consumed = 0;
  let hold: Promise<void> | undefined;
  const stop = await bus.consume(BACKLOG_WRITER_GROUP, async (batch) => {
    consumed += batch.length;
    await hold;
  });
  await eventually(async () => (await probe.measure()).total === 0, "caught up");
  let release!: () => void;
  hold = new Promise<void>((done) => {
    release = done;
  });
  // Published together: one batch, held by the writer.
  await Promise.all([0, 1].map((i) => bus.publish(newDraft("r", "message", alice, `late ${i}`))));
  await eventually(() => consumed === 7, "the late ones in the writer's hands");
  const behind = await probe.measure();
  expect(behind.total).toBe(2);
  expect(behind.partitions).toEqual([{ partition: 0, committed: 5, end: 7, lag: 2 }]);
  release();
  await eventually(async () => (await probe.measure()).total === 0, "caught up again");
  await stop();
  await probe.close();
  await bus.close();
});
