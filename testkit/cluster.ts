import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type IMessage } from "@stomp/stompjs";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { parseExposition, type Sample, sumSamples } from "../lib/metrics/index.ts";
import { isAlive, portFree, supervisorAlive } from "../scripts/cluster.d/procs.ts";
import { type ClusterState, loadState, REPO, wsNodes } from "../scripts/cluster.d/state.ts";
import { TEST_PASSWORD } from "./credentials.ts";
import { eventually } from "./eventually.ts";
import "../lib/bus/kafka-request-queue.ts"; // kafkajs without a 1 ms timer spinning per connection

/** A cluster of its own for one test file: own directory, base port, Kafka topic and MongoDB database. */
export interface TestCluster {
  dir: string;
  basePort: number;
  env: Record<string, string>;
  /** `scripts/cluster <args> --dir <dir>`: exit code, stdout, stderr. */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  state(): ClusterState;
  /** ws:// or http:// URL through the cluster's nginx. */
  url(path: string, scheme?: "http" | "ws"): string;
  /** Open STOMP connections per ws-node replica, from each one's /metrics. */
  connectionsPerReplica(): Promise<Map<string, number>>;
  /** `down`, then SIGKILL for anything still alive, then the topic, database and directory removed. */
  destroy(): Promise<void>;
}

async function freeBasePort(): Promise<number> {
  // Below Linux's ephemeral range (32768+), so client sockets never take one of these ports.
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 120) * 100;
    const free = await Promise.all(Array.from({ length: 30 }, (_, i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error("no free port range for a test cluster");
}

export async function startTestCluster(
  replicas: number,
  settings: Record<string, string> = {},
): Promise<TestCluster> {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const dir = mkdtempSync(join(tmpdir(), "chattalk-cluster-"));
  chmodSync(dir, 0o755); // nginx's workers (nobody, under root) read the web client from here
  const basePort = await freeBasePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    KAFKA_TOPIC: `chattalk.cluster-test.${run}`,
    KAFKA_PARTITIONS: "3",
    MONGO_DB: `chattalk_cluster_${run}`,
    REDIS_KEY_PREFIX: `chattalk-test-${run}:`,
    LOG_LEVEL: "info",
    // Sign-up and login buckets live in the shared Redis, per client address, and every test signs up
    // from 127.0.0.1: with the defaults, whichever test ran first would spend them for the rest.
    SIGNUP_IP_BURST: "100000",
    SIGNUP_IP_REFILL_SEC: "0.001",
    LOGIN_IP_BURST: "100000",
    LOGIN_IP_REFILL_SEC: "0.001",
    ...settings,
  };
  const cli = async (...args: string[]) => {
    const proc = Bun.spawn(["bash", join(REPO, "scripts/cluster"), ...args, "--dir", dir], {
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  };
  const state = () => {
    const s = loadState(dir);
    if (!s) throw new Error(`no cluster state in ${dir}`);
    return s;
  };
  const c: TestCluster = {
    dir,
    basePort,
    env,
    cli,
    state,
    url: (path, scheme = "http") => `${scheme}://127.0.0.1:${basePort}${path}`,
    async connectionsPerReplica() {
      const out = new Map<string, number>();
      for (const p of wsNodes(state())) {
        const text = await fetch(`${p.url}/metrics`).then((r) => r.text());
        out.set(p.name, sumSamples(parseExposition(text), "chattalk_stomp_connections"));
      }
      return out;
    },
    async destroy() {
      const before = loadState(dir);
      await cli("down");
      for (const p of before?.processes ?? []) {
        if (p.pid > 0 && isAlive(p)) process.kill(p.pid, "SIGKILL");
      }
      if (supervisorAlive(before)) process.kill(before!.supervisor!.pid, "SIGKILL");
      await dropTopicAndDatabase(env).catch(() => {});
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
  const res = await cli(
    "up",
    "--replicas",
    String(replicas),
    "--base-port",
    String(basePort),
    "--no-services",
  );
  if (res.code !== 0) {
    await c.destroy();
    throw new Error(`scripts/cluster up failed (${res.code}):\n${res.stderr}`);
  }
  return c;
}

async function dropTopicAndDatabase(env: Record<string, string>): Promise<void> {
  const admin = new Kafka({
    clientId: "cluster-test",
    brokers: env.KAFKA_BROKERS!.split(","),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [env.KAFKA_TOPIC!, `${env.KAFKA_TOPIC}.control`] }).catch(() => {});
  await admin.disconnect();
  const mongo = new MongoClient(env.MONGO_URL!, { serverSelectionTimeoutMS: 3_000 });
  await mongo.db(env.MONGO_DB).dropDatabase();
  await mongo.close();
}

/** A user signed up through nginx and the http-api. */
export interface TestUser {
  id: string;
  username: string;
  token: string;
  refreshToken: string;
}

async function api<T>(c: TestCluster, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(c.url(path), {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function signup(c: TestCluster, name: string): Promise<TestUser> {
  const username = `${name}${Math.random().toString(36).slice(2, 8)}`;
  const r = await api<{ user: { id: string }; accessToken: string; refreshToken: string }>(
    c,
    "/api/auth/signup",
    { username, password: TEST_PASSWORD },
  );
  return { id: r.user.id, username, token: r.accessToken, refreshToken: r.refreshToken };
}

/** A room owned by the first user, joined by the rest. */
export async function roomOf(c: TestCluster, users: TestUser[]): Promise<string> {
  const { room } = await api<{ room: { id: string } }>(
    c,
    "/api/rooms",
    { name: "cluster test", maxMembers: 100 },
    users[0]!.token,
  );
  for (const u of users.slice(1)) await api(c, `/api/rooms/${room.id}/join`, undefined, u.token);
  return room.id;
}

export interface Received {
  seq: number;
  text: string;
  type: string;
}

/**
 * A chat client as the web client behaves: @stomp/stompjs reconnecting by itself, re-subscribing on
 * every connect with x-since-seq of the last message it has, so a reconnect has no gap. Everything
 * it receives is kept, duplicates and all.
 */
export class ChatClient {
  readonly received: Received[] = [];
  connects = 0;
  readonly errors: string[] = [];
  readonly client: Client;

  constructor(
    url: string,
    user: TestUser,
    readonly roomId: string | undefined,
  ) {
    this.client = new Client({
      webSocketFactory: () => new WebSocket(url, ["v12.stomp"]),
      connectHeaders: { Authorization: `Bearer ${user.token}` },
      reconnectDelay: 200,
      heartbeatIncoming: 2_000,
      heartbeatOutgoing: 2_000,
      onConnect: () => this.onConnect(),
      onStompError: (f) => this.errors.push(f.headers.message ?? "ERROR"),
    });
  }

  get lastSeq(): number {
    return this.received.at(-1)?.seq ?? 0;
  }

  private onConnect(): void {
    this.connects++;
    if (!this.roomId) return;
    const headers: Record<string, string> = { id: "room" };
    if (this.lastSeq > 0) headers["x-since-seq"] = String(this.lastSeq);
    this.client.subscribe(`/topic/rooms/${this.roomId}`, (m: IMessage) => this.onMessage(m), headers);
  }

  private onMessage(m: IMessage): void {
    const body = JSON.parse(m.body) as Received;
    this.received.push({ seq: body.seq, text: body.text, type: body.type });
  }

  /** Resolves on the first CONNECTED. */
  async start(): Promise<this> {
    this.client.activate();
    await eventually(() => this.connects > 0, "STOMP connect through nginx", 10_000);
    return this;
  }

  texts(): string[] {
    return this.received.filter((r) => r.type === "message").map((r) => r.text);
  }
}

export type { Sample };
