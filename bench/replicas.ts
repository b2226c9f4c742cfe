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
import { type Config, parseConfig } from "../lib/config/index.ts";
import { createStores } from "../lib/store/index.ts";
import type { Stores } from "../lib/store/types.ts";
import { type AppProcess, startAppProcess } from "../test/support/app-process.ts";
import { fmtInt, LineChild } from "./support/child.ts";
import type { LatencyPlan } from "./support/latency-clients.ts";
import { busyPercentOfCore, machineCpu, processCpuMs } from "./support/proc-cpu.ts";

const ROOMS = 20;
/** Sender connections per room (one user): a connection's SENDs are handled one after another. */
const SENDERS_PER_ROOM = 3;
const RECEIVERS_PER_ROOM = 2;
/** Long enough for the backlog writers' consumer group to settle after the last node joins. */
const WARMUP_MS = 5_000;
const STEP_MS = 8_000;
/** Open-loop steps, in messages per second over all rooms. */
const PACED = [500, 2_000];
/** Closed-loop step: SENDs awaiting their RECEIPT per sender connection. */
const WINDOW = 8;
const SERVICES = ["KAFKA_BROKERS", "DATABASE_URL", "MONGO_URL", "REDIS_URL"] as const;
const root = new URL("..", import.meta.url).pathname;
const WS_NODE = join(root, "apps/ws-node/main.ts");
const CLIENTS = join(root, "bench/support/latency-clients.ts");
/** Written by scripts/services; absent when Kafka runs elsewhere, and then its column stays empty. */
const KAFKA_PID_FILE = join(root, ".services/run/kafka.pid");
const TITLE = "### Replicas through Kafka (1 vs 3)";

interface Row {
  setup: string;
  load: string;
  offered: string;
  achieved: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  missing: number;
  errors: number;
  nodeCpu: number;
  /** NaN when the broker's process is not known. */
  kafkaCpu: number;
  clientCpu: number;
  machineCpu: number;
}

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

async function measureSetup(label: string, replicas: number, ctx: Context): Promise<Row[]> {
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
    const kafkaPid = await kafkaProcess();
    const kafkaMs = () => (kafkaPid ? processCpuMs(kafkaPid) : Promise.resolve(Number.NaN));
    const measure = async (command: string, ms: number, load: string, offered: string): Promise<Row> => {
      const machine0 = await machineCpu();
      const node0 = await Promise.all(nodes.map((n) => processCpuMs(n.proc.pid)));
      const kafka0 = await kafkaMs();
      c.send(`${command} ${ms}`);
      // The window's CPU: read as the sending stops; the drain after it is not part of the rate.
      await Bun.sleep(ms);
      const machine1 = await machineCpu();
      const node1 = await Promise.all(nodes.map((n) => processCpuMs(n.proc.pid)));
      const kafka1 = await kafkaMs();
      const [, , inWindow, delivered, , p50, p99, max, missing, errors, clientMicros] = (
        await c.next("result", ms + 30_000)
      ).map(Number) as number[];
      const seconds = ms / 1000;
      const nodeMs = node1.reduce((a, b, i) => a + b - node0[i]!, 0);
      return {
        setup: label,
        load,
        offered,
        achieved: inWindow! / seconds,
        delivered: delivered! / seconds,
        p50: p50!,
        p99: p99!,
        max: max!,
        missing: missing!,
        errors: errors!,
        nodeCpu: nodeMs / 10 / seconds,
        kafkaCpu: (kafka1 - kafka0) / 10 / seconds,
        clientCpu: clientMicros! / 10_000 / seconds,
        machineCpu: busyPercentOfCore(machine0, machine1),
      };
    };

    await measure(`paced ${PACED[0]}`, WARMUP_MS, "warm-up", "");
    const rows: Row[] = [];
    for (const rate of PACED) rows.push(await measure(`paced ${rate}`, STEP_MS, "steady", fmtInt(rate)));
    rows.push(await measure(`window ${WINDOW}`, STEP_MS, `${WINDOW} in flight per sender`, "max"));
    return rows;
  } finally {
    await clients?.stop();
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await dropSetupData(base, env.KAFKA_TOPIC, env.MONGO_DB);
  }
}

/** The local broker's pid, if scripts/services started it and it is still running. */
async function kafkaProcess(): Promise<number | undefined> {
  const file = Bun.file(KAFKA_PID_FILE);
  if (!(await file.exists())) return undefined;
  const pid = Number((await file.text()).trim());
  return (await Bun.file(`/proc/${pid}/stat`).exists()) ? pid : undefined;
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
      TITLE,
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
  const config = parseConfig(base);
  const stores = await createStores(config);
  const workDir = mkdtempSync(join(tmpdir(), "chattalk-bench-replicas-"));
  const ctx: Context = { base, runId: Date.now().toString(36), stores, config, workDir };
  try {
    const rows = [
      ...(await measureSetup("1 replica", 1, ctx)),
      ...(await measureSetup("3 replicas", 3, ctx)),
    ];
    return report(rows);
  } finally {
    await stores.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

function report(rows: Row[]): string {
  const ms = (v: number) => v.toFixed(1);
  const line = (r: Row) =>
    `| ${r.setup} | ${r.load} | ${r.offered} | ${fmtInt(r.achieved)} | ${fmtInt(r.delivered)} | ${ms(r.p50)} | ${ms(
      r.p99,
    )} | ${ms(r.max)} | ${r.nodeCpu.toFixed(0)}% | ${
      Number.isNaN(r.kafkaCpu) ? "–" : `${r.kafkaCpu.toFixed(0)}%`
    } | ${r.clientCpu.toFixed(0)}% | ${r.machineCpu.toFixed(0)}% |`;
  const lost = rows.reduce((a, r) => a + r.missing + r.errors, 0);
  const best = (setup: string) => Math.max(...rows.filter((r) => r.setup === setup).map((r) => r.achieved));
  return [
    TITLE,
    "",
    `${ROOMS} rooms, each with one sending user on ${SENDERS_PER_ROOM} connections and ${RECEIVERS_PER_ROOM} receiving members`,
    "(ack auto). Setup A: one `apps/ws-node/main.ts` process; setup B: three. Both on the same real Kafka",
    "(one broker, acks=all, a new topic of 6 partitions per setup), Postgres, Redis and MongoDB protocol",
    "(FerretDB) from `scripts/services`; LOG_LEVEL=warn, SEND rate limits raised. A node fans out only what",
    "its Kafka consumer reads back, so both setups go through Kafka; in B a room's senders are on one node",
    "and its receivers on the two others, so every delivery crosses between processes. All clients live in",
    "one child process, which notes the time of each SEND and of each MESSAGE arriving for it (one clock):",
    "latency is client send → client receive, RECEIPT after Kafka's acknowledgement included.",
    `After a ${WARMUP_MS / 1000} s warm-up at ${PACED[0]} msg/s, each step runs ${STEP_MS / 1000} s: open-loop`,
    `steady rates (SENDs every 2 ms, round-robin over the sender connections), then a closed loop with`,
    `${WINDOW} SENDs awaiting their RECEIPT per sender connection (a connection's frames are handled one at`,
    "a time, so throughput comes from many connections). Achieved = RECEIPTs received within the step per",
    `second; delivered = MESSAGE frames received per second (${RECEIVERS_PER_ROOM} per message). Latency percentiles`,
    "are over every delivery of the step's messages, including those arriving after it. CPU in % of one",
    "core (2 cores = 200%) during the step: the ws-node processes together, the Kafka broker, the client",
    "process, and the whole machine (everything on it, other work included).",
    "",
    "| setup | load | offered msg/s | achieved msg/s | delivered/s | p50 ms | p99 ms | max ms | ws-node CPU | Kafka CPU | client CPU | machine CPU |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(line),
    "",
    `**Highest throughput: ${fmtInt(best("1 replica"))} msg/s with one replica, ${fmtInt(best("3 replicas"))} msg/s with three.**`,
    lost === 0
      ? "Every receipted message reached every receiver; no ERROR frame, no closed socket."
      : `**${lost} deliveries missing or sockets closed/ERROR frames**: see the columns above and the run's stderr.`,
    "This machine has 2 cores shared by every process: the replicas, Kafka (a JVM), the other services and",
    "the client. Three replicas each read every message from Kafka (each node's fan-out consumer gets all",
    "partitions) and pay their own Kafka, Postgres and WebSocket work, so on 2 cores they are not expected",
    "to be faster than one: the machine CPU column shows when the cores are the limit. What B shows is the",
    "cost of crossing replicas, not scaling; scaling out needs the replicas on separate machines.",
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await run());
