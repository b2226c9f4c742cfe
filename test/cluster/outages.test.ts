import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import { openBacklog, openStores } from "../../lib/backends.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import { type Config, parseConfig } from "../../lib/config/index.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { Stores } from "../../lib/store/types.ts";
import { type AppProcess, startAppProcess } from "../../testkit/app-process.ts";
import { clusterEnv, skipWithoutCluster } from "../../testkit/cluster-env.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

/**
 * Backing services going away under a running ws-node process: Kafka (sending fails visibly within
 * the bound, then recovers by itself) and the MongoDB-protocol backlog (chat goes on, the backlog
 * catches up). The services are stopped by the pids `scripts/services up` recorded and started again
 * with `scripts/services up`.
 */
const skip = skipWithoutCluster();
const run = `o${Date.now().toString(36)}`;
const env = clusterEnv(run, { KAFKA_PARTITIONS: "2", BUS_SEND_TIMEOUT_MS: "2000" });

let config: Config;
let stores: Stores;
let backlog: Backlog;
let node: AppProcess;

async function stopService(name: "kafka" | "ferretdb"): Promise<void> {
  const pid = Number(readFileSync(`.services/run/${name}.pid`, "utf8").trim());
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 600; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await Bun.sleep(50);
  }
  throw new Error(`${name} (pid ${pid}) did not stop`);
}

async function servicesUp(): Promise<void> {
  const proc = Bun.spawn(["bash", "scripts/services", "up"], { stdout: "ignore", stderr: "inherit" });
  expect(await proc.exited).toBe(0);
}

beforeAll(async () => {
  if (skip) return;
  config = parseConfig(env);
  stores = await openStores(config);
  backlog = await openBacklog(config);
  node = await startAppProcess("apps/ws-node/main.ts", { ...env, NODE_ID: run });
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await stores?.close();
  await backlog?.close();
  if (!skip) await servicesUp();
}, 120_000);

const isMessage = (f: Frame) => f.command === "MESSAGE";
const text = (f: Frame) => JSON.parse(new TextDecoder().decode(f.body)).text as string;

async function chat() {
  const tokens = tokenServiceFromConfig(config);
  const owner = await stores.users.createUser(`a${run}${Math.random().toString(36).slice(2, 6)}`, "x");
  const room = await stores.rooms.createRoom({ name: "outage", ownerId: owner.id, maxMembers: 10 });
  const c = await RawStomp.connect(
    `${node.url.replace("http:", "ws:")}/ws`,
    await tokens.issueAccessToken(owner),
  );
  c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
  c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: `/topic/rooms/${room.id}`, receipt: "s" });
  await c.next((f) => f.command === "RECEIPT");
  const send = (t: string) =>
    c.sendFrame("SEND", { destination: `/topic/rooms/${room.id}`, receipt: t }, JSON.stringify({ text: t }));
  /** The SEND's outcome: its RECEIPT, or the refusal notice carrying its receipt-id. */
  const outcome = (t: string) =>
    c.next(
      (f) => f.headers["receipt-id"] === t && (f.command === "RECEIPT" || f.command === "MESSAGE"),
      30_000,
    );
  return { c, room, send, outcome };
}

describe.skipIf(skip)("backing services going away", () => {
  test("Kafka stopped: SENDs are refused within the bound; after restart sending works again", async () => {
    const { c, send, outcome } = await chat();
    send("before");
    expect((await outcome("before")).command).toBe("RECEIPT");
    expect(text(await c.next(isMessage))).toBe("before");

    await stopService("kafka");
    const started = performance.now();
    send("during");
    const refused = await outcome("during");
    const elapsed = performance.now() - started;
    expect(refused.command).toBe("MESSAGE");
    expect(JSON.parse(new TextDecoder().decode(refused.body)).code).toBe("unavailable");
    // Bounded: the configured timeout plus scheduling slack, not kafkajs's retry schedule.
    expect(elapsed).toBeLessThan(2000 + 5000);

    await servicesUp();
    let delivered = false;
    for (let i = 0; i < 60 && !delivered; i++) {
      send(`after${i}`);
      const r = await outcome(`after${i}`);
      delivered = r.command === "RECEIPT";
      if (!delivered) await Bun.sleep(500);
    }
    expect(delivered).toBe(true);
    const live = await c.next((f) => isMessage(f) && text(f).startsWith("after"), 30_000);
    expect(text(live)).toStartWith("after");
    c.close();
  }, 180_000);

  test("MongoDB-protocol backlog stopped: chat goes on; after restart the backlog catches up", async () => {
    const { c, room, send, outcome } = await chat();
    await stopService("ferretdb");
    const texts = Array.from({ length: 10 }, (_, i) => `while-down-${i}`);
    for (const t of texts) send(t);
    for (const t of texts) expect((await outcome(t)).command).toBe("RECEIPT");
    const got = [];
    for (let i = 0; i < texts.length; i++) got.push(text(await c.next(isMessage, 15_000)));
    expect(got).toEqual(texts);

    await servicesUp();
    let stored: string[] = [];
    for (let i = 0; i < 120 && stored.length < texts.length; i++) {
      stored = (await backlog.after(room.id, 0, 100).catch(() => [])).map((m) => m.text);
      if (stored.length < texts.length) await Bun.sleep(500);
    }
    expect(stored).toEqual(texts);
    c.close();
  }, 180_000);
});
