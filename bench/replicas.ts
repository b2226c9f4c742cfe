/**
 * Replicas benchmark: end-to-end latency and messages per second through one ws-node process against
 * three, all on the same real Kafka (each setup with its own topic and MongoDB backlog database).
 * Every message goes through Kafka in both setups: a node fans out only what its consumer reads back.
 * With three replicas each room's senders sit on one node and its receivers on the two others, so every
 * message also crosses between processes. The clients live in one child process
 * (bench/support/latency-clients.ts), which stamps each SEND and its arrivals on one clock.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { tokenServiceFromConfig } from "../lib/auth/index.ts";
import { openStores } from "../lib/backends.ts";
import { type Config, parseConfig } from "../lib/config/index.ts";
import type { Stores } from "../lib/store/types.ts";
import { type AppProcess, startAppProcess } from "../testkit/app-process.ts";
import { fmtInt, LineChild } from "./support/child.ts";
import type { LatencyPlan } from "./support/latency-clients.ts";
import { busyPercentOfCore, cpuDeltaMs, cpuSnapshot, machineCpu } from "./support/proc-cpu.ts";
import { REPLICAS_TITLE, replicasReport, type StepRow } from "./support/replicas-report.ts";
import { benchRedisUrl, freshDatabase } from "./support/sandbox.ts";
import { servicesCpu } from "./support/services-cpu.ts";

const ROOMS = 20;
/** Sender connections per room (one user): a connection's SENDs are handled one after another. */
const SENDERS_PER_ROOM = 3;
const RECEIVERS_PER_ROOM = 2;
/** Long enough for the backlog writers' consumer group to settle after the last node joins. */
const WARMUP_MS = 5_000;
const STEP_MS = 8_000;
/** Open-loop steps, in messages per second over all rooms. */
const PACED = [100, 500, 2_000];
const WARMUP_RATE = 500;
/** Closed-loop step: SENDs awaiting their RECEIPT per sender connection. */
const WINDOW = 8;
const SERVICES = ["KAFKA_BROKERS", "DATABASE_URL", "MONGO_URL", "REDIS_URL"] as const;
const root = new URL("..", import.meta.url).pathname;
const WS_NODE = join(root, "apps/ws-node/main.ts");
const CLIENTS = join(root, "bench/support/latency-clients.ts");

/** Users, rooms and tokens in Postgres, and which node each connection goes to. */
async function makePlan(stores: Stores, config: Config, urls: string[], tag: string): Promise<LatencyPlan> {
  const tokens = tokenServiceFromConfig(config);
  const plan: LatencyPlan = { rooms: [] };
  for (let r = 0; r < ROOMS; r++) {
    const owner = await stores.users.createUser(`b${tag}o${r}`, "not-a-login");
    const room = await stores.rooms.createRoom({ name: `bench ${r}`, ownerId: owner.id, maxMembers: 10 });
    const ownerToken = await tokens.issueAccessToken(owner);
    const at = (offset: number) => urls[(r + offset) % urls.length]!;
    const receivers = [];
    for (let i = 0; i < RECEIVERS_PER_ROOM; i++) {
      const user = await stores.users.createUser(`b${tag}r${r}x${i}`, "not-a-login");
      await stores.rooms.join(room.id, user.id, 0);
      // With three nodes: the room's senders on node r % 3, its receivers on the two others.
      receivers.push({ url: at(1 + i), token: await tokens.issueAccessToken(user) });
    }
    plan.rooms.push({
      destination: `/topic/rooms/${room.id}`,
      senders: Array.from({ length: SENDERS_PER_ROOM }, () => ({ url: at(0), token: ownerToken })),
      receivers,
    });
  }
  return plan;
}

interface Context {
  /** Settings every node gets: the services' URLs and the benchmark's limits. */
  base: Record<string, string>;
  /** Unique per run: names users, topics and databases. */
  runId: string;
  stores: Stores;
  config: Config;
  workDir: string;
}

async function measureSetup(label: string, replicas: number, ctx: Context): Promise<StepRow[]> {
  const { base, stores, config, workDir } = ctx;
  const tag = `${ctx.runId}${replicas}`;
  const env = { ...base, KAFKA_TOPIC: `chattalk.bench.${tag}`, MONGO_DB: `chattalk_bench_${tag}` };
  const nodes: AppProcess[] = [];
  let clients: LineChild | undefined;
  try {
    for (let i = 0; i < replicas; i++) {
      nodes.push(await startAppProcess(WS_NODE, { ...env, NODE_ID: `bench-${tag}-${i}` }));
    }
    const urls = nodes.map((n) => `${n.url.replace("http:", "ws:")}/ws`);
    const planFile = join(workDir, `plan-${tag}.json`);
    await Bun.write(planFile, JSON.stringify(await makePlan(stores, config, urls, tag)));
    clients = LineChild.spawn(CLIENTS, [planFile]);
    await clients.next("ready", 60_000);

    const c = clients;
    const services = await servicesCpu();
    const measure = async (command: string, ms: number, load: string, offered: string): Promise<StepRow> => {
      const pids = nodes.map((n) => n.proc.pid);
      const before = {
        machine: await machineCpu(),
        nodes: await cpuSnapshot(pids),
        ...(await services.snapshot()),
      };
      c.send(`${command} ${ms}`);
      // CPU over the step's window, read as the sending stops; the drain after it is not part of it.
      await Bun.sleep(ms);
      const after = {
        machine: await machineCpu(),
        nodes: await cpuSnapshot(pids),
        ...(await services.snapshot()),
      };
      const [, , inWindow, delivered, , p50, p99, max, missing, errors, clientMicros] = (
        await c.next("result", ms + 30_000)
      ).map(Number) as number[];
      const perSecond = (n: number) => n / (ms / 1000);
      return {
        setup: label,
        load,
        offered,
        achieved: perSecond(inWindow!),
        delivered: perSecond(delivered!),
        p50: p50!,
        p99: p99!,
        max: max!,
        missing: missing!,
        errors: errors!,
        nodeCpu: perSecond(cpuDeltaMs(before.nodes, after.nodes) / 10),
        kafkaCpu: services.hasKafka ? perSecond(cpuDeltaMs(before.kafka, after.kafka) / 10) : Number.NaN,
        servicesCpu: perSecond(cpuDeltaMs(before.others, after.others) / 10),
        clientCpu: perSecond(clientMicros! / 10_000),
        machineCpu: busyPercentOfCore(before.machine, after.machine),
      };
    };

    await measure(`paced ${WARMUP_RATE}`, WARMUP_MS, "warm-up", "");
    const rows: StepRow[] = [];
    for (const rate of PACED) rows.push(await measure(`paced ${rate}`, STEP_MS, "steady", fmtInt(rate)));
    rows.push(await measure(`window ${WINDOW}`, STEP_MS, `${WINDOW} in flight per sender`, "max"));
    return rows;
  } finally {
    await clients?.stop();
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await dropSetupData(base, env.KAFKA_TOPIC, env.MONGO_DB);
  }
}

/** Deletes the setup's topics and backlog database: every run makes new ones. */
async function dropSetupData(base: Record<string, string>, topic: string, db: string): Promise<void> {
  const admin = new Kafka({ brokers: base.KAFKA_BROKERS!.split(","), logLevel: logLevel.NOTHING }).admin();
  const mongo = new MongoClient(base.MONGO_URL!);
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${topic}.control`] });
  } catch (err) {
    console.error(`bench replicas: topics ${topic} not deleted: ${String(err)}`);
  } finally {
    await admin.disconnect();
  }
  try {
    await mongo.db(db).dropDatabase();
  } catch (err) {
    console.error(`bench replicas: database ${db} not dropped: ${String(err)}`);
  } finally {
    await mongo.close();
  }
}

export default async function run(): Promise<string> {
  const absent = SERVICES.filter((k) => !process.env[k]);
  if (absent.length > 0) {
    return [
      REPLICAS_TITLE,
      "",
      `Skipped: ${absent.join(", ")} not set. This benchmark needs the real services:`,
      '`bash scripts/services up && eval "$(bash scripts/services env)"`, then `bun run bench replicas`.',
      "",
    ].join("\n");
  }
  const base: Record<string, string> = {
    JWT_SECRET: "bench-secret-that-is-long-enough-for-hs256!",
    KAFKA_PARTITIONS: "6",
    LOG_LEVEL: "warn",
    SEND_RATE_PER_SEC: "100000",
    SEND_BURST: "100000",
  };
  for (const k of SERVICES) base[k] = process.env[k]!;
  const runId = Date.now().toString(36);
  // A Postgres database and Redis index of the benchmark's own, not the shared defaults.
  const pg = await freshDatabase(base.DATABASE_URL!, `chattalk_bench_r${runId}`);
  base.DATABASE_URL = pg.url;
  base.REDIS_URL = benchRedisUrl(base.REDIS_URL!);
  const config = parseConfig(base);
  const stores = await openStores(config);
  const workDir = mkdtempSync(join(tmpdir(), "chattalk-bench-replicas-"));
  const ctx: Context = { base, runId, stores, config, workDir };
  try {
    const rows = [
      ...(await measureSetup("1 replica", 1, ctx)),
      ...(await measureSetup("3 replicas", 3, ctx)),
    ];
    return replicasReport(rows, {
      rooms: ROOMS,
      sendersPerRoom: SENDERS_PER_ROOM,
      receiversPerRoom: RECEIVERS_PER_ROOM,
      warmupMs: WARMUP_MS,
      stepMs: STEP_MS,
      warmupRate: WARMUP_RATE,
      firstRate: PACED[0]!,
      window: WINDOW,
    });
  } finally {
    await stores.close();
    await pg.drop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(await run());
