import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { skipWithout } from "../../test/support/services.ts";
import { silentLogger } from "../log/index.ts";
import { eventually, RosterRecorder } from "./contract.ts";
import { RedisPresenceReporter, RedisPresenceView } from "./redis.ts";

/**
 * Redis going away and coming back, on a redis-server of this test's own (never the shared one):
 * started on a free port, stopped, started again empty on the same port.
 */
const redisServer = Bun.which("redis-server");

async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function answers(port: number): Promise<boolean> {
  const ping = Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(port), "ping"], {
    stdout: "pipe",
    stderr: "ignore",
  });
  return (await new Response(ping.stdout).text()).trim() === "PONG";
}

describe.skipIf(skipWithout("redis") || !redisServer)("Redis presence through a Redis outage", () => {
  let port: number;
  let server: Subprocess | undefined;
  let reporter: RedisPresenceReporter;
  let view: RedisPresenceView;

  async function startServer(): Promise<void> {
    server = Bun.spawn(
      [redisServer!, "--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
      { stdout: "ignore", stderr: "ignore" },
    );
    const deadline = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (Date.now() > deadline) throw new Error("own redis-server did not start");
      await Bun.sleep(50);
    }
  }

  async function stopServer(): Promise<void> {
    server?.kill("SIGKILL");
    await server?.exited;
    server = undefined;
  }

  beforeAll(async () => {
    port = await freePort();
    await startServer();
    const url = `redis://127.0.0.1:${port}`;
    const tuning = { coalesceMs: 50, nodeTtlMs: 1_500, sweepEveryMs: 300 };
    reporter = new RedisPresenceReporter({ url, nodeId: "outage-node", log: silentLogger, ...tuning });
    view = new RedisPresenceView({ url, log: silentLogger, ...tuning, healthEveryMs: 200, timeoutMs: 500 });
    await reporter.start();
    await view.start();
  });

  afterAll(async () => {
    await reporter?.stop();
    await view?.close();
    await stopServer();
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
    const url = `redis://127.0.0.1:${port}`;
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
