import { describe, expect, test } from "bun:test";
import { eventually } from "../bus/contract.ts";
import { createMemoryBus } from "../bus/memory.ts";
import { type ChatMessage, newDraft } from "../chat/message.ts";
import { createSqliteBacklog } from "./sqlite.ts";
import type { Backlog } from "./types.ts";
import { startBacklogWriter } from "./writer.ts";

const alice = { id: "u-alice", username: "alice" };

/** Our own backlog that refuses the first `failures` appends, like a database that is down then back. */
function flaky(inner: Backlog, failures: number): Backlog & { refused: number } {
  const wrapper = {
    ...inner,
    refused: 0,
    async append(batch: readonly ChatMessage[]) {
      if (wrapper.refused < failures) {
        wrapper.refused++;
        throw new Error("backlog unavailable");
      }
      await inner.append(batch);
    },
  };
  return wrapper;
}

describe("backlog writer", () => {
  test("copies every published message into the backlog in seq order", async () => {
    const bus = createMemoryBus(":memory:");
    const backlog = createSqliteBacklog(":memory:");
    const stop = await startBacklogWriter(bus, backlog);
    const published = await Promise.all(
      Array.from({ length: 50 }, (_, i) => bus.publish(newDraft(`r${i % 2}`, "message", alice, `m${i}`))),
    );
    await eventually(
      async () => (await backlog.countAfter("r0", 0)) + (await backlog.countAfter("r1", 0)) === 50,
      "50 stored",
    );
    await stop();
    for (const room of ["r0", "r1"]) {
      expect(await backlog.after(room, 0, 100)).toEqual(published.filter((m) => m.roomId === room));
    }
    await bus.close();
    await backlog.close();
  });

  test("a backlog outage loses nothing and duplicates nothing; a restarted writer resumes", async () => {
    const bus = createMemoryBus(":memory:", { retryMinMs: 1, retryMaxMs: 5 });
    const store = createSqliteBacklog(":memory:");
    const backlog = flaky(store, 4);
    const stop = await startBacklogWriter(bus, backlog);
    const first = await Promise.all(
      Array.from({ length: 30 }, (_, i) => bus.publish(newDraft("r", "message", alice, `a${i}`))),
    );
    await eventually(async () => (await store.countAfter("r", 0)) === 30, "the first 30 after the outage");
    expect(backlog.refused).toBe(4);
    await stop();

    const second = await Promise.all(
      Array.from({ length: 20 }, (_, i) => bus.publish(newDraft("r", "message", alice, `b${i}`))),
    );
    const restarted = await startBacklogWriter(bus, flaky(store, 2));
    await eventually(async () => (await store.countAfter("r", 0)) === 50, "all 50 after the restart");
    await restarted();
    expect(await store.after("r", 0, 100)).toEqual([...first, ...second]);
    await bus.close();
    await store.close();
  });
});
