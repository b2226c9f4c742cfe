/**
 * A stack for the history-scaling benchmark: the apps' own stores and backlog opened from this
 * process (to seed them and make members), and one node process on top that can be restarted with
 * other settings. Embedded: the one-process app (apps/main.ts) on its own data directory. Real: a
 * ws-node on Kafka, Postgres, FerretDB and Redis with its own topic, database and key prefix.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import type { TokenService } from "../../lib/auth/tokens.ts";
import { openBacklog, openStores } from "../../lib/backends.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import { type Config, parseConfig } from "../../lib/config/index.ts";
import { parseExposition } from "../../lib/metrics/index.ts";
import type { Room, Stores, User } from "../../lib/store/types.ts";
import { type AppProcess, startAppProcess } from "../../testkit/app-process.ts";
import { clusterEnv } from "../../testkit/cluster-env.ts";

const SECRET = "history-scaling-secret-long-enough-for-hs256";
/** Far above what one member sends here (1,000 missed messages in a burst, then 30/s). */
const SENDS = { SEND_RATE_PER_SEC: "5000", SEND_BURST: "5000" };

export interface HistoryStage {
  label: string;
  config: Config;
  stores: Stores;
  backlog: Backlog;
  /** The node's ws URL and base URL, while it runs. */
  wsUrl: string;
  url: string;
  /** Starts the node (stopping a running one first) with these settings on top of the stage's. */
  start(extra?: Record<string, string>): Promise<void>;
  stopNode(): Promise<void>;
  member(name: string): Promise<{ user: User; token: string }>;
  room(owner: User, members: User[]): Promise<Room>;
  /** The node's chattalk_replays_total by source. */
  replays(): Promise<Record<string, number>>;
  dispose(): Promise<void>;
}

async function stage(
  label: string,
  entry: string,
  settings: Record<string, string>,
  cleanup: () => Promise<void>,
): Promise<HistoryStage> {
  const config = parseConfig(settings);
  const stores = await openStores(config);
  const backlog = await openBacklog(config);
  const tokens: TokenService = tokenServiceFromConfig(config);
  const tag = Math.random().toString(36).slice(2, 8);
  let node: AppProcess | undefined;
  let n = 0;
  const self: HistoryStage = {
    label,
    config,
    stores,
    backlog,
    wsUrl: "",
    url: "",
    async start(extra = {}) {
      await self.stopNode();
      node = await startAppProcess(entry, { ...settings, ...extra });
      self.url = node.url;
      self.wsUrl = `${node.url.replace("http:", "ws:")}/ws`;
    },
    async stopNode() {
      await node?.stop();
      node = undefined;
    },
    async member(name) {
      const user = await stores.users.createUser(`hs${tag}${name}${++n}`, "x");
      return { user, token: await tokens.issueAccessToken(user) };
    },
    async room(owner, members) {
      const room = await stores.rooms.createRoom({
        name: `history-scaling ${tag} ${++n}`,
        ownerId: owner.id,
        maxMembers: members.length + 1,
      });
      for (const m of members) await stores.rooms.join(room.id, m.id, 0);
      return room;
    },
    async replays() {
      const text = await fetch(`${self.url}/metrics`).then((r) => r.text());
      const out: Record<string, number> = {};
      for (const s of parseExposition(text)) {
        if (s.name === "chattalk_replays_total") out[s.labels.source ?? ""] = s.value;
      }
      return out;
    },
    async dispose() {
      await self.stopNode();
      await backlog.close();
      await stores.close();
      await cleanup();
    },
  };
  return self;
}

/** The one-process app on embedded adapters, everything in a data directory of its own. */
export function embeddedStage(): Promise<HistoryStage> {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-bench-scaling-"));
  const settings = {
    DATA_DIR: dir,
    JWT_SECRET: SECRET,
    ...SENDS,
    KAFKA_BROKERS: "",
    DATABASE_URL: "",
    MONGO_URL: "",
    REDIS_URL: "",
  };
  return stage("embedded (apps/main.ts, SQLite)", "apps/main.ts", settings, async () =>
    rmSync(dir, { recursive: true, force: true }),
  );
}

/** A ws-node on the real services (from the environment), with its own topic, database and prefix. */
export function realStage(): Promise<HistoryStage> {
  const run = `hs${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), "chattalk-bench-scaling-"));
  const settings = clusterEnv(run, { DATA_DIR: dir, JWT_SECRET: SECRET, ...SENDS });
  return stage(
    "real services (ws-node, Kafka, FerretDB, Postgres, Redis)",
    "apps/ws-node/main.ts",
    settings,
    async () => {
      rmSync(dir, { recursive: true, force: true });
      const mongo = new MongoClient(settings.MONGO_URL!);
      await mongo.db(settings.MONGO_DB).dropDatabase();
      await mongo.close();
      const admin = new Kafka({
        brokers: settings.KAFKA_BROKERS!.split(","),
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const topics = [settings.KAFKA_TOPIC!, `${settings.KAFKA_TOPIC}.control`].filter((t) =>
        existing.has(t),
      );
      if (topics.length > 0) await admin.deleteTopics({ topics });
      await admin.disconnect();
    },
  );
}
