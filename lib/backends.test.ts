import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceUrl, skipWithout } from "../testkit/services.ts";
import {
  busLogRetentionMs,
  chooseBacklogWriter,
  createBackends,
  openBacklog,
  openBus,
  openLimiters,
  processNeeds,
} from "./backends.ts";
import { BacklogWriterThread } from "./backlog/writer-thread.ts";
import { newDraft, toChatMessage } from "./chat/message.ts";
import { ConfigError, parseConfig } from "./config/index.ts";
import { type Logger, silentLogger } from "./log/index.ts";

const dir = mkdtempSync(join(tmpdir(), "chattalk-backends-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("without KAFKA_BROKERS or MONGO_URL, bus and backlog are the embedded files in DATA_DIR", async () => {
  const config = parseConfig({ DATA_DIR: join(dir, "data") });
  const bus = await openBus(config, silentLogger);
  const backlog = await openBacklog(config);
  const message = await bus.publish(newDraft("r", "message", { id: "u", username: "u" }, "hi"));
  await backlog.append([message]);
  expect(await backlog.after("r", 0, 10)).toEqual([toChatMessage(message)]);
  expect(existsSync(join(dir, "data", "bus.db"))).toBe(true);
  expect(existsSync(join(dir, "data", "backlog.db"))).toBe(true);
  await bus.close();
  await backlog.close();
});

test("the embedded default loads no real adapter's client library (kafkajs, mongodb, postgres, redis)", async () => {
  // 28 MB of heap, most of it the MongoDB driver, that every collection of the event loop's heap would
  // step over for nothing.
  const child = Bun.spawn(
    [process.execPath, join(import.meta.dir, "../testkit/fixtures/embedded-packages-child.ts")],
    {
      env: { ...process.env, DATA_DIR: join(dir, "packages") },
      stdout: "pipe",
    },
  );
  const packages = JSON.parse(await new Response(child.stdout).text()) as string[];
  expect(await child.exited).toBe(0);
  expect(packages).toContain("zod"); // the list is real: the config parser's library is there
  expect(
    packages.filter((p) => ["kafkajs", "mongodb", "bson", "postgres", "redis", "@redis"].includes(p)),
  ).toEqual([]);
});

test("the embedded log keeps messages the set hours, never less than a restart reads back for retried SENDs", () => {
  const retention = (env: Record<string, string>) =>
    busLogRetentionMs(parseConfig({ DATA_DIR: dir, ...env }));
  expect(retention({})).toBe(24 * 3_600_000);
  expect(retention({ BUS_LOG_RETENTION_HOURS: "0" })).toBe(0);
  // A 2-hour dedup window: a restart reads twice that and a minute back.
  expect(retention({ BUS_LOG_RETENTION_HOURS: "1", SEND_DEDUP_WINDOW_SEC: "7200" })).toBe(
    2 * 7_200_000 + 60_000,
  );
});

test("the backlog writer has a thread of its own exactly on Kafka and MongoDB (the cluster)", () => {
  const where = (env: Record<string, string>) =>
    chooseBacklogWriter(parseConfig({ DATA_DIR: join(dir, "w"), ...env }), silentLogger).adapter;
  const kafka = { KAFKA_BROKERS: "127.0.0.1:9" };
  const mongo = { MONGO_URL: "mongodb://127.0.0.1:9" };
  expect(where({ ...kafka, ...mongo })).toBe("thread");
  expect(where(kafka)).toBe("inline");
  expect(where(mongo)).toBe("inline");
  expect(where({})).toBe("inline");
  // The choice's name is the runner's: what the start-up line says is what runs.
  expect(chooseBacklogWriter(parseConfig({ ...kafka, ...mongo }), silentLogger).open()).toBeInstanceOf(
    BacklogWriterThread,
  );
});

describe("processNeeds", () => {
  const recording = () => {
    const lines: Record<string, unknown>[] = [];
    const log: Logger = (_level, msg, fields) => lines.push({ msg, ...fields });
    return { log, lines };
  };

  test("each process opens exactly the ports it lists, and says which adapters it chose", async () => {
    for (const name of Object.keys(processNeeds) as (keyof typeof processNeeds)[]) {
      if (name === "presence-node") continue; // needs Redis: below
      const { log, lines } = recording();
      const backends = await createBackends(parseConfig({ DATA_DIR: join(dir, name) }), log, name);
      try {
        // Every port some process needs: this one must have opened exactly its own.
        const ports: string[] = [...new Set(Object.values(processNeeds).flat())];
        expect(ports.filter((p) => p in backends).sort()).toEqual([...processNeeds[name]].sort());
        const ready = lines.find((l) => l.msg === "backends ready")!;
        expect(
          Object.keys(ready)
            .filter((k) => ports.includes(k))
            .sort(),
        ).toEqual([...processNeeds[name]].sort());
        expect(ready.stores).toBe("sqlite");
      } finally {
        await backends.close();
      }
    }
  });

  test("the one-process app's reporter feeds its own view", async () => {
    const backends = await createBackends(
      parseConfig({ DATA_DIR: join(dir, "one") }),
      silentLogger,
      "one-process",
    );
    expect(backends.presenceReporter).toBe(backends.presenceView as never);
    await backends.close();
  });

  test("a separate presence-node refuses in-process presence, naming the setting", async () => {
    const err = await createBackends(
      parseConfig({ DATA_DIR: join(dir, "p") }),
      silentLogger,
      "presence-node",
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe("REDIS_URL");
  });

  test.skipIf(skipWithout("redis"))("a presence-node on Redis gets a view and no reporter", async () => {
    const config = parseConfig({ DATA_DIR: join(dir, "pr"), REDIS_URL: serviceUrl("redis")! });
    const backends = await createBackends(config, silentLogger, "presence-node");
    expect("presenceView" in backends).toBe(true);
    expect("presenceReporter" in backends).toBe(false);
    await backends.close();
  });
});

/** Two limiter factories, as two replicas would make them (from one configuration unless given two). */
async function replicasShareABucket(env: Record<string, string>, other = env): Promise<boolean> {
  const limit = { ratePerSec: 0.01, burst: 1 };
  const [a, b] = await Promise.all([
    openLimiters(parseConfig(env), silentLogger),
    openLimiters(parseConfig(other), silentLogger),
  ]);
  try {
    await Promise.all([a.ready(), b.ready()]);
    const name = `backends-test-${crypto.randomUUID()}`;
    expect(await a(name, limit).take("k")).toBe(0);
    return (await b(name, limit).take("k")) > 0;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

describe("limiters", () => {
  test("without REDIS_URL each process keeps its own buckets", async () => {
    expect(await replicasShareABucket({})).toBe(false);
  });

  test.skipIf(skipWithout("redis"))("with REDIS_URL every replica draws on the same bucket", async () => {
    expect(await replicasShareABucket({ REDIS_URL: serviceUrl("redis")! })).toBe(true);
  });

  test.skipIf(skipWithout("redis"))("installations with their own REDIS_KEY_PREFIX keep apart", async () => {
    const run = crypto.randomUUID().slice(0, 8);
    const url = serviceUrl("redis")!;
    const one = { REDIS_URL: url, REDIS_KEY_PREFIX: `backends-test-${run}-a:` };
    expect(
      await replicasShareABucket(one, { REDIS_URL: url, REDIS_KEY_PREFIX: `backends-test-${run}-b:` }),
    ).toBe(false);
    expect(await replicasShareABucket(one)).toBe(true);
  });
});
