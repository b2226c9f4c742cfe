import { afterAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { presenceContract, RosterRecorder } from "../../testkit/contracts/presence.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { silentLogger } from "../log/index.ts";
import { RedisPresenceReporter, RedisPresenceView } from "./redis.ts";

/** Short timings so dead nodes and outages show within seconds; the defaults are in types.ts. */
const tuning = { coalesceMs: 50, nodeTtlMs: 1_500, sweepEveryMs: 300 };
const viewTuning = { ...tuning, healthEveryMs: 200, timeoutMs: 500 };

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = await createClient({ url }).connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys);
  }
  client.destroy();
}

describe.skipIf(skipWithout("redis"))("Redis presence", () => {
  const url = serviceUrl("redis")!;
  const prefix = `test-presence:${crypto.randomUUID()}:`;
  const views: RedisPresenceView[] = [];

  async function reporter(
    nodeId = `node-${crypto.randomUUID().slice(0, 8)}`,
  ): Promise<RedisPresenceReporter> {
    const r = new RedisPresenceReporter({ url, prefix, nodeId, log: silentLogger, ...tuning });
    await r.start();
    return r;
  }
  async function view(): Promise<RedisPresenceView> {
    const v = new RedisPresenceView({ url, prefix, log: silentLogger, ...viewTuning });
    await v.start();
    views.push(v);
    return v;
  }

  presenceContract({ reporter, view, teardown: () => deleteKeys(url, prefix) });

  afterAll(async () => {
    for (const v of views) await v.close();
  });

  test("a reporter process killed with SIGKILL: its users go offline, others stay", async () => {
    const roomId = `kill-${crypto.randomUUID().slice(0, 8)}`;
    const survivor = await reporter();
    const v = await view();
    const w = new RosterRecorder();
    const unwatch = await v.watch(roomId, w.handler);
    survivor.add(roomId, { id: "u-zoe", username: "zoe" }, "z1");
    const child = Bun.spawn(["bun", "testkit/fixtures/presence-reporter-child.ts"], {
      env: {
        ...process.env,
        REDIS_URL: url,
        PRESENCE_PREFIX: prefix,
        NODE_ID: `child-${crypto.randomUUID().slice(0, 8)}`,
        NODE_TTL_MS: String(tuning.nodeTtlMs),
        ROOM_ID: roomId,
        USERS: "kim,lee",
      },
      stdout: "pipe",
      stderr: "inherit",
    });
    try {
      const reader = child.stdout.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain("ready");
      await w.until(["u-kim", "u-lee", "u-zoe"], "the child's users online");
      child.kill("SIGKILL");
      await child.exited;
      // The bound with these timings is TTL 1.5 s + sweep 0.3 s + coalesce; 15 s is the default bound.
      await w.until(["u-zoe"], "the killed node's users offline", 15_000);
      expect(
        w
          .diffs()
          .at(-1)
          ?.left.map((u) => u.id)
          .sort(),
      ).toEqual(["u-kim", "u-lee"]);
      expect(w.violations).toEqual([]);
    } finally {
      child.kill("SIGKILL");
      unwatch();
      await survivor.stop();
    }
  });

  test("a view started on an empty roster reads the rosters already published", async () => {
    const roomId = `pre-${crypto.randomUUID().slice(0, 8)}`;
    const r = await reporter();
    const first = await view();
    const w1 = new RosterRecorder();
    const unwatch1 = await first.watch(roomId, w1.handler);
    r.add(roomId, { id: "u-max", username: "max" }, "m1");
    await w1.until(["u-max"], "max online");
    const second = await view();
    const w2 = new RosterRecorder();
    const unwatch2 = await second.watch(roomId, w2.handler);
    expect(w2.events[0]).toEqual({
      type: "snapshot",
      roomId,
      version: w1.version!,
      online: [{ id: "u-max", username: "max" }],
    });
    unwatch1();
    unwatch2();
    await r.stop();
  });
});
