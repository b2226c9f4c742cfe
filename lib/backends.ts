/**
 * The one place where settings pick adapters. For each port, one `choose*` function holds the one
 * line that decides: a service URL selects the real adapter, its absence the embedded one. Adapter
 * factories take typed options and never read settings themselves. `processNeeds` lists what each
 * process opens; createBackends opens exactly that.
 *
 * A real adapter's module is imported when it is opened, not before: the embedded default then never
 * loads kafkajs, the MongoDB driver, postgres or redis (28 MB of heap, most of it the MongoDB driver,
 * that every young collection of the JavaScript heap would otherwise step over; issue 16).
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { type TokenService, tokenServiceFromConfig } from "./auth/index.ts";
import { createSqliteBacklog } from "./backlog/sqlite.ts";
import type { Backlog } from "./backlog/types.ts";
import { type BacklogWriterRunner, inlineBacklogWriter } from "./backlog/writer.ts";
import { BacklogWriterThread } from "./backlog/writer-thread.ts";
import { createSqliteBus } from "./bus/sqlite-log.ts";
import { busLogPath } from "./bus/sqlite-log-path.ts";
import type { MessageBus } from "./bus/types.ts";
import { type Config, ConfigError } from "./config/index.ts";
import { pastToRead } from "./delivery/duplicates.ts";
import { type Logger, silentLogger } from "./log/index.ts";
import { MemoryPresence } from "./presence/memory.ts";
import type { PresenceReporter, PresenceTuning, PresenceView } from "./presence/types.ts";
import { createMemoryLimiterFactory } from "./ratelimit/memory.ts";
import type { LimiterFactory } from "./ratelimit/types.ts";
import { createMemorySignalHub } from "./signals/memory.ts";
import type { SignalBus } from "./signals/types.ts";
import { createSqliteStores } from "./store/sqlite/index.ts";
import type { Stores } from "./store/types.ts";

/** An adapter the settings selected: its name (for the start-up log line) and how to open it. */
interface Choice<T> {
  adapter: string;
  open(): T;
}

/** Users and rooms: Postgres (migrated on open), else SQLite at `${DATA_DIR}/chattalk.db`. */
export function chooseStores(config: Config, log: Logger = silentLogger): Choice<Promise<Stores>> {
  const url = config.DATABASE_URL;
  return url
    ? {
        adapter: "postgres",
        open: async () => (await import("./store/postgres/index.ts")).createPostgresStores(url),
      }
    : { adapter: "sqlite", open: async () => createSqliteStores(join(config.DATA_DIR, "chattalk.db"), log) };
}

/**
 * How long the embedded log keeps a message: BUS_LOG_RETENTION_HOURS, but never less than the past a
 * restarting node reads to judge retried SENDs (pastToRead: twice the dedup window and a margin).
 */
export function busLogRetentionMs(config: Config): number {
  if (config.BUS_LOG_RETENTION_HOURS === 0) return 0;
  const rule = { windowMs: config.SEND_DEDUP_WINDOW_SEC * 1_000, maxKeys: config.SEND_DEDUP_MAX_KEYS };
  return Math.max(config.BUS_LOG_RETENTION_HOURS * 3_600_000, pastToRead(rule));
}

/** The message bus: Kafka between replicas, else the durable SQLite log at `${DATA_DIR}/bus.db`. */
export function chooseBus(config: Config, log: Logger): Choice<Promise<MessageBus>> {
  const brokers = config.KAFKA_BROKERS;
  return brokers
    ? {
        adapter: "kafka",
        open: async () =>
          (await import("./bus/kafka.ts")).createKafkaBus({
            brokers,
            topic: config.KAFKA_TOPIC,
            partitions: config.KAFKA_PARTITIONS,
            producerLanes: config.KAFKA_PRODUCER_LANES,
            sendTimeoutMs: config.BUS_SEND_TIMEOUT_MS,
            nodeId: nodeIdFrom(config),
            log,
          }),
      }
    : {
        adapter: "sqlite-log",
        open: async () =>
          createSqliteBus(busLogPath(config.DATA_DIR), {
            // Appends waiting for the turn's group commit are frames in flight: half a connection's bound.
            turnGroupMax: Math.max(
              1,
              Math.min(32, Math.floor(config.STOMP_QUEUED_FRAMES_PER_CONNECTION / 2)),
            ),
            retentionMs: busLogRetentionMs(config),
            log,
          }),
      };
}

/** Missed-message history: MongoDB, else SQLite at `${DATA_DIR}/backlog.db`. */
export function chooseBacklog(config: Config, log: Logger = silentLogger): Choice<Promise<Backlog>> {
  const url = config.MONGO_URL;
  const onReplace = (reason: string) =>
    log("warn", "backlog: MongoDB client replaced by a fresh one", { reason });
  return url
    ? {
        adapter: "mongodb",
        open: async () =>
          (await import("./backlog/mongo.ts")).createMongoBacklog(url, config.MONGO_DB, { onReplace }),
      }
    : {
        adapter: "sqlite",
        // Its writes in a thread of their own: the commits never stall delivery on the event loop.
        open: async () => createSqliteBacklog(join(config.DATA_DIR, "backlog.db"), { writerThread: true }),
      };
}

/**
 * Where a ws-node's backlog writer runs. On Kafka and MongoDB (the cluster) in a thread of its own
 * that opens its own consumer and MongoDB client from these same settings (lib/backlog-writer-worker.ts):
 * the MongoDB driver and BSON were ~30% of a node's one JavaScript thread, next to delivery (3% with
 * the thread; issue 16). Otherwise inline, on the node's bus and backlog: the SQLite
 * backlog commits on a thread of its own already (sqlite-append-worker.ts), and the SQLite bus's
 * groups live in this process.
 */
export function chooseBacklogWriter(config: Config, log: Logger): Choice<BacklogWriterRunner> {
  const cluster = chooseBus(config, log).adapter === "kafka" && chooseBacklog(config).adapter === "mongodb";
  return cluster
    ? {
        adapter: "thread",
        open: () =>
          new BacklogWriterThread({
            entry: new URL("./backlog-writer-worker.ts", import.meta.url),
            settings: config,
          }),
      }
    : { adapter: "inline", open: () => inlineBacklogWriter };
}

/** Reporter and view of one process; the in-process adapter is one object serving as both. */
interface PresencePair {
  reporter(): PresenceReporter;
  view(): PresenceView;
}

/**
 * Presence: Redis, shared by every node; else in-process (one object for reporter and view, so only
 * the one-process app can use it). The Redis reporter and view connect only once started.
 */
export function choosePresence(config: Config, log: Logger): Choice<Promise<PresencePair>> {
  const url = config.REDIS_URL;
  const tuning: PresenceTuning = {
    coalesceMs: config.PRESENCE_COALESCE_MS,
    nodeTtlMs: config.PRESENCE_NODE_TTL_MS,
    sweepEveryMs: config.PRESENCE_SWEEP_MS,
  };
  if (url) {
    return {
      adapter: "redis",
      open: async () => {
        const { DEFAULT_PREFIX, RedisPresenceReporter, RedisPresenceView } = await import(
          "./presence/redis.ts"
        );
        const prefix = config.REDIS_KEY_PREFIX + DEFAULT_PREFIX;
        return {
          reporter: () =>
            new RedisPresenceReporter({ url, prefix, nodeId: nodeIdFrom(config), log, ...tuning }),
          view: () => new RedisPresenceView({ url, prefix, log, ...tuning }),
        };
      },
    };
  }
  return {
    adapter: "memory",
    open: async () => {
      const memory = new MemoryPresence(log, tuning);
      return { reporter: () => memory, view: () => memory };
    },
  };
}

/**
 * Keyed rate limiters (login, sign-up): Redis, so a limit holds across replicas; else in-process
 * buckets, exact only for one replica. Redis connects only once a limiter is made (or on ready()).
 */
export function chooseLimiters(config: Config, log: Logger): Choice<Promise<LimiterFactory>> {
  const url = config.REDIS_URL;
  return url
    ? {
        adapter: "redis",
        open: async () => {
          const { createRedisLimiterFactory, DEFAULT_PREFIX } = await import("./ratelimit/redis.ts");
          return createRedisLimiterFactory({ url, log, prefix: config.REDIS_KEY_PREFIX + DEFAULT_PREFIX });
        },
      }
    : { adapter: "memory", open: async () => createMemoryLimiterFactory() };
}

/**
 * Ephemeral signals (typing, read receipts): Redis Pub/Sub, so every replica hears them; else in
 * process, which is all the one-process app needs.
 */
export function chooseSignals(config: Config, log: Logger): Choice<Promise<SignalBus>> {
  const url = config.REDIS_URL;
  return url
    ? {
        adapter: "redis",
        open: async () => {
          const { createRedisSignalBus, DEFAULT_CHANNEL } = await import("./signals/redis.ts");
          return createRedisSignalBus({ url, channel: config.REDIS_KEY_PREFIX + DEFAULT_CHANNEL, log });
        },
      }
    : { adapter: "memory", open: async () => createMemorySignalHub(log).handle() };
}

export const openStores = (config: Config) => chooseStores(config).open();
export const openBus = (config: Config, log: Logger) => chooseBus(config, log).open();
export const openBacklog = (config: Config) => chooseBacklog(config).open();
export const openLimiters = (config: Config, log: Logger) => chooseLimiters(config, log).open();

interface Ports {
  stores: Stores;
  bus: MessageBus;
  backlog: Backlog;
  /** Runs the node's backlog writer (started and stopped by the node). */
  backlogWriter: BacklogWriterRunner;
  /** Tells the presence service which rooms this node's connections watch. */
  presenceReporter: PresenceReporter;
  /** Reads rosters and follows their changes. */
  presenceView: PresenceView;
  limiters: LimiterFactory;
  /** Ephemeral per-room signals between nodes. */
  signals: SignalBus;
}
export type PortName = keyof Ports;

/** What each process opens; nothing else is connected, so a process needs only its own services. */
export const processNeeds = {
  "ws-node": ["stores", "bus", "backlog", "backlogWriter", "presenceReporter", "signals"],
  // The bus only for membership control events; a presence-node never publishes.
  "presence-node": ["stores", "bus", "presenceView"],
  "http-api": ["stores", "bus", "backlog", "limiters"],
  "one-process": [
    "stores",
    "bus",
    "backlog",
    "backlogWriter",
    "presenceReporter",
    "presenceView",
    "limiters",
    "signals",
  ],
} as const satisfies Record<string, readonly PortName[]>;
export type ProcessName = keyof typeof processNeeds;

/** The adapters one process needs, plus what every process has. */
export type Backends<P extends ProcessName> = Pick<Ports, (typeof processNeeds)[P][number]> & {
  nodeId: string;
  tokens: TokenService;
  /** Closes what was opened (presence reporters and views are stopped by the app that started them). */
  close(): Promise<void>;
};

export function nodeIdFrom(config: Config): string {
  return config.NODE_ID ?? `${hostname()}-${process.pid}`;
}

/**
 * Opens the adapters `process` needs, as the settings select them. Throws ConfigError when the
 * settings cannot serve that process (a separate presence-node on in-process presence would only ever
 * see its own, empty, roster).
 */
export async function createBackends<P extends ProcessName>(
  config: Config,
  log: Logger,
  processName: P,
): Promise<Backends<P>> {
  const needs = new Set<PortName>(processNeeds[processName]);
  const presence = choosePresence(config, log);
  if (needs.has("presenceView") && !needs.has("presenceReporter") && presence.adapter === "memory") {
    throw new ConfigError(
      "REDIS_URL",
      `required for a separate ${processName} (the one-process app embeds presence)`,
    );
  }
  const chosen: Partial<Record<PortName, string>> = {};
  const opened: Partial<Ports> = {};
  const open = async <K extends PortName>(port: K, choice: Choice<Ports[K] | Promise<Ports[K]>>) => {
    if (!needs.has(port)) return;
    chosen[port] = choice.adapter;
    opened[port] = await choice.open();
  };
  try {
    await open("stores", chooseStores(config, log));
    await open("bus", chooseBus(config, log));
    await open("backlog", chooseBacklog(config, log));
    await open("backlogWriter", chooseBacklogWriter(config, log));
    await open("limiters", chooseLimiters(config, log));
    await open("signals", chooseSignals(config, log));
    if (needs.has("presenceReporter") || needs.has("presenceView")) {
      const pair = await presence.open();
      await open("presenceReporter", { adapter: presence.adapter, open: pair.reporter });
      await open("presenceView", { adapter: presence.adapter, open: pair.view });
    }
  } catch (err) {
    await closeAll(opened);
    throw err;
  }
  log("info", "backends ready", { process: processName, ...chosen });
  return {
    ...(opened as Pick<Ports, (typeof processNeeds)[P][number]>),
    nodeId: nodeIdFrom(config),
    tokens: tokenServiceFromConfig(config),
    close: () => closeAll(opened),
  };
}

async function closeAll(opened: Partial<Ports>): Promise<void> {
  await Promise.allSettled([
    opened.bus?.close(),
    opened.backlog?.close(),
    opened.stores?.close(),
    opened.limiters?.close(),
    opened.signals?.close(),
  ]);
}
