import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { eventually } from "../../testkit/eventually.ts";
import { OwnRedis } from "../../testkit/fixtures/own-redis.ts";
import { skipWithout } from "../../testkit/services.ts";
import type { Logger } from "../log/index.ts";
import { createRedisLimiterFactory } from "./redis.ts";
import type { KeyedLimiter } from "./types.ts";

/** Collects log lines so tests can count the outage warnings. */
function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const log: Logger = (level, msg) => lines.push({ level, msg });
  return { log, lines, count: (level: string) => lines.filter((l) => l.level === level).length };
}

const limit = { ratePerSec: 0.01, burst: 2 };
const takes = (l: KeyedLimiter, key: string, n: number) =>
  Promise.all(Array.from({ length: n }, () => l.take(key)));

describe("Redis limiter without Redis", () => {
  test("on a closed port takes are limited in memory, with one warning for the outage", async () => {
    const rec = recordingLogger();
    const make = createRedisLimiterFactory({
      url: "redis://127.0.0.1:1",
      log: rec.log,
      connectWaitMs: 200,
    });
    try {
      const login = make("login", limit);
      await make.ready();
      expect(await takes(login, "alice", 2)).toEqual([0, 0]);
      expect(await login.take("alice")).toBeGreaterThan(0);
      expect(await login.take("bob")).toBe(0);
      await eventually(() => rec.count("warn") > 0, "the outage warning");
      await Bun.sleep(300); // the client keeps failing to reconnect meanwhile
      expect(await login.take("carol")).toBe(0);
      expect(rec.count("warn")).toBe(1);
    } finally {
      await make.close();
    }
  });

  test("a factory that has made no limiter has not connected, so it has no outage to report", async () => {
    const rec = recordingLogger();
    const make = createRedisLimiterFactory({ url: "redis://127.0.0.1:1", log: rec.log });
    await Bun.sleep(200);
    expect(rec.lines).toEqual([]);
    await make.close();
  });

  test("a server that accepts but never answers holds up neither the factory nor a take", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const rec = recordingLogger();
    const make = createRedisLimiterFactory({
      url: `redis://127.0.0.1:${silent.port}`,
      log: rec.log,
      connectWaitMs: 100,
      timeoutMs: 100,
    });
    try {
      const login = make("login", limit);
      await make.ready();
      expect(await takes(login, "alice", 2)).toEqual([0, 0]);
      expect(await login.take("alice")).toBeGreaterThan(0);
    } finally {
      await make.close();
      silent.stop(true);
    }
  });
});

/** A Redis of the test's own, stopped and started again empty on the same port. */
describe.skipIf(skipWithout("redis") || !OwnRedis.binary)("Redis limiter through a Redis outage", () => {
  let redis: OwnRedis;
  const rec = recordingLogger();

  beforeAll(async () => {
    redis = await OwnRedis.create();
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function inRedis(key: string): Promise<boolean> {
    const client = await createClient({ url: redis.url }).connect();
    try {
      return (await client.exists(key)) === 1;
    } finally {
      client.destroy();
    }
  }

  test("takes go to memory while Redis is down and back to Redis when it returns", async () => {
    const make = createRedisLimiterFactory({ url: redis.url, log: rec.log, timeoutMs: 200 });
    try {
      const login = make("login", limit);
      await make.ready();
      expect(await takes(login, "alice", 2)).toEqual([0, 0]);
      expect(await inRedis("ratelimit:login:alice")).toBe(true);
      expect(await login.take("alice")).toBeGreaterThan(0);

      await redis.stop();
      // The in-memory buckets start full: this replica alone still holds the limit during the outage.
      expect(await takes(login, "alice", 2)).toEqual([0, 0]);
      expect(await login.take("alice")).toBeGreaterThan(0);
      await eventually(() => rec.count("warn") === 1, "one outage warning");

      await redis.start(); // empty
      await eventually(async () => {
        await login.take("bob");
        return inRedis("ratelimit:login:bob");
      }, "a take stored in Redis again");
      expect(rec.lines.at(-1)?.msg).toBe("ratelimit: redis available again");
      expect(rec.count("warn")).toBe(1);
    } finally {
      await make.close();
    }
  }, 20_000);

  test("a Redis that stops answering a connected client costs a take at most the timeout", async () => {
    const slow = recordingLogger();
    const make = createRedisLimiterFactory({
      url: redis.url,
      log: slow.log,
      timeoutMs: 200,
      retryAfterMs: 300,
    });
    const admin = await createClient({ url: redis.url }).connect();
    try {
      const signup = make("signup", limit);
      await make.ready();
      expect(await signup.take("dave")).toBe(0);
      await admin.sendCommand(["CLIENT", "PAUSE", "1500", "ALL"]);
      // Memory answers: a full bucket for dave, after the first take timed out.
      expect(await takes(signup, "dave", 2)).toEqual([0, 0]);
      expect(await signup.take("dave")).toBeGreaterThan(0);
      expect(slow.count("warn")).toBe(1);
      await eventually(
        async () => {
          await signup.take("probe");
          return slow.count("info") === 1;
        },
        "Redis answering again",
        10_000,
      );
      const pause = slow.lines.findIndex((l) => l.level === "warn");
      expect(slow.lines.slice(pause).map((l) => l.level)).toEqual(["warn", "info"]);
      // The take that timed out was still run once Redis resumed, so dave's bucket there is spent:
      // a slow Redis can make a take count twice (in memory and in Redis), never zero times.
      expect(await signup.take("dave")).toBeGreaterThan(0);
      expect(await signup.take("erin")).toBe(0);
    } finally {
      admin.destroy();
      await make.close();
    }
  }, 20_000);
});
