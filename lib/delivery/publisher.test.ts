import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteBus } from "../bus/sqlite-log.ts";
import { BusUnavailableError, type MessageBus } from "../bus/types.ts";
import { type ChatMessage, newDraft } from "../chat/message.ts";
import { DuplicateIndex } from "./duplicates.ts";
import { IdempotentPublisher } from "./publisher.ts";

const dir = mkdtempSync(join(tmpdir(), "chattalk-publisher-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const alice = { id: "u-alice", username: "alice" };
const rule = { windowMs: 60_000, maxKeys: 1_000 };

/** A node: its handle on the shared log, its reader's index, its publisher, what its fan-out delivers. */
async function node(path: string) {
  const bus = createSqliteBus(path);
  const index = new DuplicateIndex(rule);
  const delivered: ChatMessage[] = [];
  await bus.subscribe((m) => {
    if (index.admit(m)) delivered.push(m);
  });
  return { bus, index, delivered, publisher: new IdempotentPublisher(bus, index, 1_000) };
}

describe("IdempotentPublisher", () => {
  test("a retry is answered with the stored copy's seq, and nothing is appended again", async () => {
    const n = await node(join(dir, "retry.db"));
    const first = await n.publisher.publish(newDraft("r", "message", alice, "hello", { clientMsgId: "c-1" }));
    expect(first.duplicate).toBe(false);
    const again = await n.publisher.publish(newDraft("r", "message", alice, "hello", { clientMsgId: "c-1" }));
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    // Retries racing on one node join the attempt under way.
    const racing = await Promise.all(
      [1, 2, 3].map(() => n.publisher.publish(newDraft("r", "message", alice, "x", { clientMsgId: "c-2" }))),
    );
    expect(new Set(racing.map((r) => r.seq)).size).toBe(1);
    expect(racing.filter((r) => !r.duplicate)).toHaveLength(1);
    await Bun.sleep(5);
    expect(n.delivered.map((m) => m.clientMsgId)).toEqual(["c-1", "c-2"]);
    await n.bus.close();
  });

  test("two replicas that both appended a retry keep the first copy, and both report it", async () => {
    const path = join(dir, "race.db");
    const a = await node(path);
    const b = await node(path);
    // The race: each replica appended its copy before either reader had seen the other's.
    const copyA = await a.bus.publish(newDraft("r", "message", alice, "once", { clientMsgId: "c-9" }));
    const copyB = await b.bus.publish(newDraft("r", "message", alice, "once", { clientMsgId: "c-9" }));
    expect(copyB.seq).toBeGreaterThan(copyA.seq);
    await Bun.sleep(5);
    for (const n of [a, b]) expect(n.delivered.map((m) => m.seq)).toEqual([copyA.seq]);
    // A retry to either replica is answered with the kept copy.
    for (const n of [a, b]) {
      expect(
        await n.publisher.publish(newDraft("r", "message", alice, "once", { clientMsgId: "c-9" })),
      ).toEqual({
        seq: copyA.seq,
        duplicate: true,
      });
    }
    await a.bus.close();
    await b.bus.close();
  });

  test("a copy appended after another replica's is reported as that one (duplicate), once judged", async () => {
    const path = join(dir, "late.db");
    const a = await node(path);
    // A replica whose reader lags 30 ms behind the log.
    const bus = createSqliteBus(path);
    const index = new DuplicateIndex(rule);
    await bus.subscribe((m) => void setTimeout(() => index.admit(m), 30));
    const lagging = new IdempotentPublisher(bus, index, 1_000);
    const first = await a.bus.publish(newDraft("r", "message", alice, "late", { clientMsgId: "c-5" }));
    // Its reader has not judged a's copy yet, so it appends its own; the answer waits for its reader,
    // which keeps a's copy.
    expect(index.lookup("r", alice.id, "c-5")).toBeUndefined();
    expect(await lagging.publish(newDraft("r", "message", alice, "late", { clientMsgId: "c-5" }))).toEqual({
      seq: first.seq,
      duplicate: true,
    });
    await Bun.sleep(40);
    expect(a.delivered.filter((m) => m.clientMsgId === "c-5").map((m) => m.seq)).toEqual([first.seq]);
    await a.bus.close();
    await bus.close();
  });

  test("a refused append is reported as refused, and a later retry may append", async () => {
    const n = await node(join(dir, "down.db"));
    let down = true;
    const flaky: Pick<MessageBus, "publish"> = {
      publish: (draft) =>
        down ? Promise.reject(new BusUnavailableError("down", "not_written")) : n.bus.publish(draft),
    };
    const publisher = new IdempotentPublisher(flaky, n.index, 1_000);
    const refused = publisher.publish(newDraft("r", "message", alice, "hi", { clientMsgId: "c-7" }));
    await expect(refused).rejects.toMatchObject({ outcome: "not_written" });
    down = false;
    expect(
      (await publisher.publish(newDraft("r", "message", alice, "hi", { clientMsgId: "c-7" }))).duplicate,
    ).toBe(false);
    await n.bus.close();
  });
});
