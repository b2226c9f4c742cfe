import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBacklog } from "../backlog/index.ts";
import { newDraft } from "../chat/message.ts";
import { parseConfig } from "../config/index.ts";
import { createBus } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "chattalk-factory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("without KAFKA_BROKERS or MONGO_URL, bus and backlog are the embedded files in DATA_DIR", async () => {
  const config = parseConfig({ DATA_DIR: join(dir, "data") });
  const bus = await createBus(config);
  const backlog = await createBacklog(config);
  const message = await bus.publish(newDraft("r", "message", { id: "u", username: "u" }, "hi"));
  await backlog.append([message]);
  expect(await backlog.after("r", 0, 10)).toEqual([message]);
  expect(existsSync(join(dir, "data", "bus.db"))).toBe(true);
  expect(existsSync(join(dir, "data", "backlog.db"))).toBe(true);
  await bus.close();
  await backlog.close();
});
