import { describe, expect, test } from "bun:test";
import { signalBusContract } from "../../testkit/contracts/signals.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { silentLogger } from "../log/index.ts";
import { createMemorySignalHub } from "./memory.ts";
import { createRedisSignalBus } from "./redis.ts";

describe("memory signal bus contract", () => {
  const hub = createMemorySignalHub();
  signalBusContract({ handle: async () => hub.handle() });
});

describe.skipIf(skipWithout("redis"))("redis signal bus contract", () => {
  const channel = `chattalk-test-${crypto.randomUUID().slice(0, 8)}:signals`;
  signalBusContract({
    handle: async () => createRedisSignalBus({ url: serviceUrl("redis")!, channel, log: silentLogger }),
  });
});

describe("redis signal bus without redis", () => {
  test("publishes are dropped and counted, never thrown or queued; subscribe still resolves", async () => {
    const bus = createRedisSignalBus({
      url: "redis://127.0.0.1:1",
      channel: "nowhere",
      log: silentLogger,
      connectWaitMs: 200,
    });
    const stop = await bus.subscribe(() => {});
    for (let i = 0; i < 100; i++) {
      bus.publish({ kind: "typing", roomId: "r", userId: "u", username: "u", data: {} });
    }
    expect(bus.dropped).toBe(100);
    await stop();
    await bus.close();
  });
});
