import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RosterRecorder } from "../../testkit/contracts/presence.ts";
import { eventually } from "../../testkit/eventually.ts";
import { OwnRedis } from "../../testkit/fixtures/own-redis.ts";
import { skipWithout } from "../../testkit/services.ts";
import { silentLogger } from "../log/index.ts";
import { RedisPresenceReporter, RedisPresenceView } from "./redis.ts";

/** Redis going away and coming back: stopped, then started again empty on the same port. */
describe.skipIf(skipWithout("redis") || !OwnRedis.binary)("Redis presence through a Redis outage", () => {
  let redis: OwnRedis;
  let reporter: RedisPresenceReporter;
  let view: RedisPresenceView;
  const startServer = () => redis.start();
  const stopServer = () => redis.stop();

  beforeAll(async () => {
    redis = await OwnRedis.create();
    await startServer();
    const url = redis.url;
    const tuning = { coalesceMs: 50, nodeTtlMs: 1_500, sweepEveryMs: 300 };
    reporter = new RedisPresenceReporter({ url, nodeId: "outage-node", log: silentLogger, ...tuning });
    view = new RedisPresenceView({ url, log: silentLogger, ...tuning, healthEveryMs: 200, timeoutMs: 500 });
    await reporter.start();
    await view.start();
  });

  afterAll(async () => {
    await reporter?.stop();
    await view?.close();
    await redis?.stop();
  });

  test("watchers get degraded, then a fresh snapshot rebuilt from the reporters' own state", async () => {
    expect(view.healthy).toBe(true);
    const w = new RosterRecorder();
    const unwatch = await view.watch("lobby", w.handler);
    reporter.add("lobby", { id: "u-amy", username: "amy" }, "a1");
    await w.until(["u-amy"], "amy online");

    await stopServer();
    await eventually(() => w.degraded, "watcher told degraded");
    expect(view.healthy).toBe(false);
    // Chat goes on meanwhile: reports neither throw nor wait.
    reporter.add("lobby", { id: "u-ben", username: "ben" }, "b1");
    reporter.remove("lobby", "u-amy", "a1");
    const late = new RosterRecorder();
    const unwatchLate = await view.watch("lobby", late.handler);
    expect(late.events).toEqual([{ type: "degraded", roomId: "lobby" }]);

    await startServer(); // empty: everything Redis held is gone
    await eventually(() => view.healthy, "view healthy again");
    await w.until(["u-ben"], "roster rebuilt from the reporter's local state");
    await late.until(["u-ben"], "the watcher that came during the outage");
    const degradedAt = w.events.findIndex((e) => e.type === "degraded");
    expect(w.events.slice(degradedAt + 1).find((e) => e.type !== "degraded")?.type).toBe("snapshot");

    reporter.add("lobby", { id: "u-cat", username: "cat" }, "c1");
    await w.until(["u-ben", "u-cat"], "diffs flow again after recovery");
    expect(w.violations).toEqual([]);
    expect(late.violations).toEqual([]);
    unwatch();
    unwatchLate();
  });

  test("a reporter started while Redis is down registers once it is up", async () => {
    await stopServer();
    const url = redis.url;
    const late = new RedisPresenceReporter({
      url,
      nodeId: "late-node",
      log: silentLogger,
      nodeTtlMs: 1_500,
      connectWaitMs: 200,
    });
    await late.start();
    late.add("hall", { id: "u-dan", username: "dan" }, "d1");
    await startServer();
    await eventually(() => view.healthy, "view healthy again");
    const w = new RosterRecorder();
    const unwatch = await view.watch("hall", w.handler);
    await w.until(["u-dan"], "dan online once Redis is up");
    await late.stop();
    await w.until([], "dan offline after his node stopped");
    unwatch();
  });
});
