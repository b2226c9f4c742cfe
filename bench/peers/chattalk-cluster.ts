/**
 * ChatTalk on the real services (Kafka, Postgres, the MongoDB protocol, Redis from scripts/services) as
 * separate processes: `replicas` ws-nodes on a Kafka topic, a Postgres database, a MongoDB database
 * and a Redis database index of their own (never the shared defaults), users and rooms made through a
 * short-lived http-api process. stop() removes the topic and the databases again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { benchRedisUrl, freshDatabase } from "../support/sandbox.ts";
import { type ServerProcess, startServer } from "../support/server-process.ts";
import { chattalkAccounts, type Layout } from "./accounts.ts";
import type { Peer } from "./servers.ts";
import { chattalkEnv } from "./servers.ts";

export const SERVICE_KEYS = ["KAFKA_BROKERS", "DATABASE_URL", "MONGO_URL", "REDIS_URL"] as const;
const root = new URL("../..", import.meta.url).pathname;
const BUN = process.execPath;

/** The service URLs not set in this environment (the cluster needs all of them). */
export function missingServices(): string[] {
  return SERVICE_KEYS.filter((k) => !process.env[k]);
}

export interface ChattalkCluster extends Peer {
  topic: string;
  /** Starts one more replica on the same topic and databases (its URL is not added to `urls`). */
  addReplica(): Promise<ServerProcess>;
  stop(): Promise<void>;
}

export async function startChattalkCluster(opts: {
  replicas: number;
  layout: Layout;
  /** Unique per run: names the topic, the backlog database and the users. */
  tag: string;
  env?: Record<string, string>;
}): Promise<ChattalkCluster> {
  const workDir = mkdtempSync(join(tmpdir(), "chattalk-bench-cluster-"));
  const topic = `chattalk.bench.${opts.tag}`;
  const database = `chattalk_bench_${opts.tag}`;
  const pg = await freshDatabase(process.env.DATABASE_URL!, database);
  const env: Record<string, string> = {
    ...chattalkEnv(workDir),
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    MONGO_URL: process.env.MONGO_URL!,
    DATABASE_URL: pg.url,
    REDIS_URL: benchRedisUrl(process.env.REDIS_URL!),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: "6",
    MONGO_DB: database,
    ...opts.env,
  };
  const procs: ServerProcess[] = [];
  const stop = async () => {
    await Promise.allSettled(procs.map((p) => p.stop()));
    await dropData(topic, database);
    await pg.drop();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    // BENCH_PROFILE=<dir>: each ws-node writes a CPU profile there when it stops.
    const profile = process.env.BENCH_PROFILE
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, "--cpu-prof-md"]
      : [];
    const addReplica = async () => {
      const node = [BUN, ...profile, join(root, "apps/ws-node/main.ts")];
      const nodeEnv = { ...env, NODE_ID: `bench-${opts.tag}-${procs.length}` };
      const started = await startServer(node, nodeEnv, { healthPath: "/readyz" });
      procs.push(started);
      return started;
    };
    for (let i = 0; i < opts.replicas; i++) await addReplica();
    const api = await startServer([BUN, join(root, "apps/http-api/main.ts")], env, { healthPath: "/readyz" });
    let accounts: Peer["accounts"];
    try {
      accounts = await chattalkAccounts(`http://127.0.0.1:${api.port}`, opts.layout, `k${opts.tag}x`);
    } finally {
      await api.stop();
    }
    return {
      name: opts.replicas === 1 ? "ChatTalk" : `ChatTalk ×${opts.replicas}`,
      protocol: "stomp",
      urls: procs.map((p) => `ws://127.0.0.1:${p.port}`),
      procs: [...procs],
      accounts,
      topic,
      addReplica,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Deletes a run's topics and MongoDB database: every run makes new ones. */
async function dropData(topic: string, db: string): Promise<void> {
  const admin = new Kafka({
    brokers: process.env.KAFKA_BROKERS!.split(","),
    logLevel: logLevel.NOTHING,
  }).admin();
  const mongo = new MongoClient(process.env.MONGO_URL!);
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${topic}.control`] });
  } catch (err) {
    console.error(`bench: topics ${topic} not deleted: ${String(err)}`);
  } finally {
    await admin.disconnect();
  }
  try {
    await mongo.db(db).dropDatabase();
  } catch (err) {
    console.error(`bench: database ${db} not dropped: ${String(err)}`);
  } finally {
    await mongo.close();
  }
}
