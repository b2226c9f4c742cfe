import { describe, expect, test } from "bun:test";
import type { Consumer } from "kafkajs";
import { eventually } from "../../testkit/eventually.ts";
import { silentLogger } from "../log/index.ts";
import { type SupervisedConsumer, supervise } from "./kafka-supervisor.ts";

/**
 * A stand-in for a kafkajs consumer with just what the supervisor touches: its CRASH and FETCH
 * events. (kafkajs's non-retriable crashes cannot be caused on demand against a real broker; the
 * Kafka outage test in test/cluster covers the real thing.)
 */
class FakeConsumer implements SupervisedConsumer {
  readonly events = { CRASH: "consumer.crash", FETCH: "consumer.fetch" } as Consumer["events"];
  private readonly listeners = new Map<string, ((e: unknown) => void)[]>();
  disconnected = false;
  on: Consumer["on"] = ((event: string, listener: (e: unknown) => void) => {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => undefined;
  }) as Consumer["on"];
  async disconnect() {
    this.disconnected = true;
  }
  emit(event: string, payload: unknown) {
    for (const l of this.listeners.get(event) ?? []) l({ payload });
  }
  crash(restart: boolean) {
    this.emit(this.events.CRASH, { error: new Error("Failed to find group coordinator"), restart });
  }
}

function harness(failStarts = 0) {
  const made: FakeConsumer[] = [];
  let failures = failStarts;
  const sup = supervise({
    groupId: "g",
    create: () => {
      const c = new FakeConsumer();
      made.push(c);
      return c;
    },
    start: async () => {
      if (made.length > 1 && failures-- > 0) throw new Error("broker not ready");
    },
    log: silentLogger,
    retryMinMs: 10,
    retryMaxMs: 40,
  });
  return { made, sup };
}

describe("supervise", () => {
  test("a non-retriable crash brings up a new consumer on the group after a backoff", async () => {
    const { made, sup } = harness();
    const s = await sup;
    expect(made).toHaveLength(1);
    made[0]!.crash(false);
    expect(made).toHaveLength(1); // not at once
    await eventually(() => made.length === 2, "a replacement", 2_000);
    expect(made[0]!.disconnected).toBe(true);
    // The replacement is supervised too.
    made[1]!.crash(false);
    await eventually(() => made.length === 3, "a second replacement", 2_000);
    await s.stop();
    expect(made[2]!.disconnected).toBe(true);
  });

  test("crashes kafkajs restarts by itself are left to it", async () => {
    const { made, sup } = harness();
    const s = await sup;
    made[0]!.crash(true);
    await Bun.sleep(40);
    expect(made).toHaveLength(1);
    await s.stop();
  });

  test("a replacement that cannot start is retried until one runs", async () => {
    const { made, sup } = harness(3);
    const s = await sup;
    made[0]!.crash(false);
    // The first, three failed starts, one that runs; then nothing more.
    await eventually(() => made.length === 5, "a replacement that runs", 2_000);
    await Bun.sleep(100);
    expect(made).toHaveLength(5);
    await s.stop();
  });

  test("after stop, a crash starts nothing", async () => {
    const { made, sup } = harness();
    const s = await sup;
    await s.stop();
    made[0]!.crash(false);
    await Bun.sleep(40);
    expect(made).toHaveLength(1);
  });
});
