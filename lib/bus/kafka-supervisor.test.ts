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

function harness(failStarts = 0, firstStart?: Promise<void>) {
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
      if (made.length === 1 && firstStart) await firstStart;
      if (failures-- > 0) throw new Error("broker not ready");
    },
    log: silentLogger,
    retryMinMs: 10,
    retryMaxMs: 40,
  });
  /** The supervisor, once its first consumer runs. */
  const running = async () => {
    await eventually(() => made.length >= 1, "a first consumer", 2_000);
    await Bun.sleep(5);
    return sup;
  };
  return { made, sup, running };
}

describe("supervise", () => {
  test("a non-retriable crash brings up a new consumer on the group after a backoff", async () => {
    const { made, running } = harness();
    const s = await running();
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
    const { made, running } = harness();
    const s = await running();
    made[0]!.crash(true);
    await Bun.sleep(40);
    expect(made).toHaveLength(1);
    await s.stop();
  });

  test("a consumer that cannot start is retried until one runs, the first one too", async () => {
    const { made, sup } = harness(3);
    // Three failed starts, one that runs; then nothing more.
    await eventually(() => made.length === 4, "a consumer that runs", 2_000);
    await Bun.sleep(100);
    expect(made).toHaveLength(4);
    made[3]!.crash(false);
    await eventually(() => made.length === 5, "its replacement", 2_000);
    await sup.stop();
  });

  test("the first start is not waited for: a group join may take a session timeout", async () => {
    let joined!: () => void;
    const { made, sup } = harness(0, new Promise<void>((resolve) => (joined = resolve)));
    // supervise() returned at once, although the first start has not finished.
    await eventually(() => made.length === 1, "the first consumer", 2_000);
    joined();
    await Bun.sleep(20);
    expect(made).toHaveLength(1);
    await sup.stop();
    expect(made[0]!.disconnected).toBe(true);
  });

  test("after stop, a crash starts nothing", async () => {
    const { made, running } = harness();
    const s = await running();
    await s.stop();
    made[0]!.crash(false);
    await Bun.sleep(40);
    expect(made).toHaveLength(1);
  });
});
