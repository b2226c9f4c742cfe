import { z } from "zod";
import {
  defaultPasswordConcurrency,
  PASSWORD_DEFAULT_MEMORY_KIB,
  PASSWORD_DEFAULT_QUEUE_LIMIT,
  PASSWORD_DEFAULT_TIME_COST,
} from "../auth/password.ts";

/** Whole number from an environment string, with bounds. */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL with scheme ${protocols.map((p) => p.replace(":", "://")).join(" or ")}`,
  );
const brokers = z
  .string()
  .transform((v) => v.split(",").map((s) => s.trim()))
  .refine((list) => list.every((b) => /^[\w.-]+:\d{1,5}$/.test(b)), "must be host:port[,host:port...]");
/** Comma-separated origins (`scheme://host[:port]`), or `*`. */
const origins = z
  .string()
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine(
    (list) =>
      list.every((o) => {
        if (o === "*") return true;
        try {
          return new URL(o).origin === o;
        } catch {
          return false;
        }
      }),
    "must be origins like https://chat.example.com[,https://other.example], or *",
  );
const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/**
 * Every setting ChatTalk reads, keyed by its environment variable name.
 * A backend's URL being present selects its real adapter; absent selects the embedded one.
 */
export const configSchema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: int(0, 65535).default(3000),
  DATA_DIR: z.string().min(1).default("./data"),
  // The built web client (`bun apps/web/serve.ts <dir>`), served by the one-process app as it is;
  // unset, the app bundles the client from source at start (which needs the devDependencies).
  WEB_DIR: z.string().min(1).optional(),
  NODE_ID: z
    .string()
    .regex(/^[\w.-]{1,64}$/, "letters, digits, '.', '_' or '-', at most 64")
    .optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),

  KAFKA_BROKERS: brokers.optional(),
  KAFKA_TOPIC: z
    .string()
    .regex(/^[\w.-]{1,200}$/, "not a valid Kafka topic name")
    .default("chattalk.rooms"),
  KAFKA_PARTITIONS: int(1, 1000).default(6),
  // Idempotent producers side by side, each sending a fixed share of the partitions (one request in
  // flight each, so a partition's order holds); more than the partitions only adds connections.
  KAFKA_PRODUCER_LANES: int(1, 64).default(3),
  REDIS_URL: url(["redis:", "rediss:"]).optional(),
  // Put before every Redis key and channel (presence, rate limits): installations or test runs sharing
  // one Redis keep apart. Empty by default, so keys are "presence:…" and "ratelimit:…".
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[\w.:-]{1,64}$/, "letters, digits, '.', '_', ':' or '-', at most 64")
    .default(""),
  DATABASE_URL: url(["postgres:", "postgresql:"]).optional(),
  MONGO_URL: url(["mongodb:", "mongodb+srv:"]).optional(),
  MONGO_DB: z.string().min(1).default("chattalk"),

  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JWT_ISSUER: z.string().min(1).default("chattalk"),
  JWT_AUDIENCE: z.string().min(1).default("chattalk"),
  ACCESS_TOKEN_TTL_SEC: int(10, 86_400).default(900),
  REFRESH_TOKEN_TTL_SEC: int(60, 90 * 86_400).default(30 * 86_400),

  STOMP_MAX_FRAME_BYTES: int(1024, 16 * 1024 * 1024).default(64 * 1024),
  STOMP_MAX_HEADERS: int(4, 1000).default(32),
  STOMP_MAX_HEADER_LINE_BYTES: int(64, 64 * 1024).default(4096),
  STOMP_MAX_BODY_BYTES: int(16, 16 * 1024 * 1024).default(32 * 1024),
  MESSAGE_MAX_CHARS: int(1, 100_000).default(4000),
  HEARTBEAT_MS: int(0, 600_000).default(10_000),
  HEARTBEAT_MIN_CLIENT_MS: int(0, 600_000).default(1_000),
  SEND_RATE_PER_SEC: z.coerce.number().positive().max(100_000).default(10),
  SEND_BURST: int(1, 100_000).default(20),
  // Ephemeral signals a connection SENDs (typing), in a bucket of their own: typing never spends the chat budget.
  SIGNAL_RATE_PER_SEC: z.coerce.number().positive().max(100_000).default(2),
  SIGNAL_BURST: int(1, 100_000).default(10),
  // Login and sign-up buckets: BURST attempts at once, then one more every REFILL_SEC seconds.
  // Logins: per (username, address) pair and per address; the username-wide bucket is a slow backstop
  // against guessing from many addresses: once it is empty, each address gets one attempt per
  // LOGIN_UNDER_ATTACK_REFILL_SEC for that username, so a correct password from a new address passes.
  LOGIN_PAIR_BURST: int(1, 100_000).default(5),
  LOGIN_PAIR_REFILL_SEC: z.coerce.number().positive().max(86_400).default(20),
  LOGIN_IP_BURST: int(1, 100_000).default(20),
  LOGIN_IP_REFILL_SEC: z.coerce.number().positive().max(86_400).default(3),
  LOGIN_USERNAME_BURST: int(1, 100_000).default(100),
  LOGIN_USERNAME_REFILL_SEC: z.coerce.number().positive().max(86_400).default(36),
  LOGIN_UNDER_ATTACK_REFILL_SEC: z.coerce.number().positive().max(86_400).default(300),
  SIGNUP_IP_BURST: int(1, 100_000).default(20),
  SIGNUP_IP_REFILL_SEC: z.coerce.number().positive().max(86_400).default(10),
  // State-changing room routes: creations per user, other room actions (join, leave, delete, admin)
  // per user, and every state-changing authenticated request per client address.
  ROOM_CREATE_BURST: int(1, 100_000).default(5),
  ROOM_CREATE_REFILL_SEC: z.coerce.number().positive().max(86_400).default(60),
  ROOM_ACTION_BURST: int(1, 100_000).default(20),
  ROOM_ACTION_REFILL_SEC: z.coerce.number().positive().max(86_400).default(1),
  // Join and leave lines one user puts into one room's log: BURST, then one more every REFILL_SEC; past
  // that, joining and leaving still work but the room is not told each time (no flood of lines).
  MEMBERSHIP_LINE_BURST: int(1, 100_000).default(3),
  MEMBERSHIP_LINE_REFILL_SEC: z.coerce.number().positive().max(86_400).default(60),
  // DMs opened per user (each may create a room and tells the other user), invite links made per user.
  DM_OPEN_BURST: int(1, 100_000).default(20),
  DM_OPEN_REFILL_SEC: z.coerce.number().positive().max(86_400).default(3),
  INVITE_BURST: int(1, 100_000).default(10),
  INVITE_REFILL_SEC: z.coerce.number().positive().max(86_400).default(10),
  ACTION_IP_BURST: int(1, 100_000).default(200),
  ACTION_IP_REFILL_SEC: z.coerce.number().positive().max(86_400).default(0.05),
  // argon2id cost (OWASP: 19 MiB, t=2, p=1) and the pool every hash and verify goes through: at most
  // CONCURRENCY at once (default: cores − 1), QUEUE_LIMIT waiting, the rest answered 503 + Retry-After.
  // Existing hashes keep verifying after a change: each carries its own parameters.
  PASSWORD_MEMORY_KIB: int(1024, 1024 * 1024).default(PASSWORD_DEFAULT_MEMORY_KIB),
  PASSWORD_TIME_COST: int(1, 20).default(PASSWORD_DEFAULT_TIME_COST),
  PASSWORD_CONCURRENCY: int(1, 256).default(defaultPasswordConcurrency()),
  PASSWORD_QUEUE_LIMIT: int(0, 100_000).default(PASSWORD_DEFAULT_QUEUE_LIMIT),
  SEND_BUFFER_LIMIT_BYTES: int(4096, 256 * 1024 * 1024).default(1024 * 1024),
  IDLE_TIMEOUT_SEC: int(0, 960).default(120),
  CONNECT_TIMEOUT_MS: int(100, 600_000).default(10_000),
  MAX_CONNECTIONS_PER_USER: int(1, 10_000).default(10),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: int(1, 10_000).default(200),
  // What one client can make a node hold, per connection and per user (all of one user's connections
  // to that node), in counts and bytes; past a bound the client gets an ERROR naming it (SECURITY.md).
  STOMP_SUBSCRIPTIONS_PER_USER: int(1, 1_000_000).default(1_000),
  STOMP_SUBSCRIPTION_BYTES_PER_CONNECTION: int(1024, 1 << 30).default(256 * 1024),
  STOMP_SUBSCRIPTION_BYTES_PER_USER: int(1024, 1 << 30).default(1024 * 1024),
  STOMP_QUEUED_FRAMES_PER_CONNECTION: int(1, 100_000).default(64),
  STOMP_QUEUED_FRAMES_PER_USER: int(1, 1_000_000).default(256),
  STOMP_QUEUED_BYTES_PER_CONNECTION: int(1024, 1 << 30).default(1024 * 1024),
  STOMP_QUEUED_BYTES_PER_USER: int(1024, 1 << 30).default(4 * 1024 * 1024),
  STOMP_TRANSACTIONS_PER_CONNECTION: int(1, 10_000).default(16),
  STOMP_TX_FRAMES_PER_CONNECTION: int(1, 1_000_000).default(256),
  STOMP_TX_FRAMES_PER_USER: int(1, 1_000_000).default(1_024),
  STOMP_TX_BYTES_PER_CONNECTION: int(1024, 1 << 30).default(1024 * 1024),
  STOMP_TX_BYTES_PER_USER: int(1024, 1 << 30).default(4 * 1024 * 1024),
  STOMP_PENDING_ACKS_PER_SUBSCRIPTION: int(1, 1_000_000).default(1_000),
  STOMP_PENDING_ACKS_PER_CONNECTION: int(1, 10_000_000).default(5_000),
  STOMP_PENDING_ACKS_PER_USER: int(1, 10_000_000).default(20_000),
  BUS_SEND_TIMEOUT_MS: int(100, 600_000).default(5_000),
  // The embedded bus log (bus.db) keeps a message at least this long, and until the backlog has
  // stored it; 0 keeps every message. Never less than what a restart reads back to know the recent
  // client message ids (twice SEND_DEDUP_WINDOW_SEC and a minute). Kafka's topic has its own retention.
  BUS_LOG_RETENTION_HOURS: int(0, 87_600).default(24),
  // Read positions in ack:auto move when a connection answers a ping (a pong proves receipt). A node
  // pings each connection with new messages about once a second, at most this many a second in all:
  // past that, each is confirmed less often and an unclean drop replays a little more (duplicates).
  READ_CONFIRM_PINGS_PER_SEC: int(10, 10_000_000).default(1_000),
  // Idempotent SEND (x-client-msg-id): a retry within this window of the stored copy is not stored
  // again; client message ids remembered per node, at most (the oldest go early past it).
  SEND_DEDUP_WINDOW_SEC: int(1, 86_400).default(300),
  SEND_DEDUP_MAX_KEYS: int(1_000, 100_000_000).default(100_000),
  // A ws-node's recent messages (replays from memory): most kept per room, and in all (approximate
  // heap bytes; the least recently active rooms go first).
  RECENT_MESSAGES_PER_ROOM: int(0, 1_000_000).default(5_000),
  RECENT_MESSAGES_MAX_BYTES: int(0, 16 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  // Replays of missed messages: backlog pages read at once per node (the rest wait, in order), and
  // replays in progress per connection and per user (more are refused with replay_limited).
  REPLAY_CONCURRENCY: int(1, 1_000).default(4),
  REPLAY_PER_CONNECTION: int(1, 10_000).default(4),
  REPLAY_PER_USER: int(1, 100_000).default(8),
  // Replay bytes per second per user (over the user's replays on a node), after a first 1 MiB at once.
  REPLAY_USER_BYTES_PER_SEC: int(64 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  PRESENCE_COALESCE_MS: int(0, 60_000).default(200),
  PRESENCE_NODE_TTL_MS: int(1_000, 600_000).default(10_000),
  PRESENCE_SWEEP_MS: int(100, 600_000).default(2_000),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
  TRUST_PROXY: bool.default(false),
  // Pages of these origins may open WebSockets, besides the request's own host; no Origin (a
  // non-browser client) is always allowed.
  ALLOWED_ORIGINS: origins.default([]),
  // What the process holds against slow or numerous clients (per address: the socket's peer, or the
  // X-Forwarded-For hop with TRUST_PROXY): HTTP requests in flight, WebSockets open, how long a
  // request body may take, how long an idle HTTP connection stays, the largest request body.
  HTTP_MAX_REQUESTS_IN_FLIGHT: int(1, 1_000_000).default(1024),
  HTTP_MAX_REQUESTS_IN_FLIGHT_PER_IP: int(1, 1_000_000).default(64),
  WS_MAX_CONNECTIONS: int(1, 10_000_000).default(10_000),
  WS_MAX_CONNECTIONS_PER_IP: int(1, 10_000_000).default(200),
  HTTP_BODY_TIMEOUT_SEC: int(1, 3600).default(10),
  HTTP_IDLE_TIMEOUT_SEC: int(1, 255).default(30),
  HTTP_MAX_BODY_BYTES: int(1024, 1 << 30).default(1024 * 1024),
  // /metrics: unset, on the app port for direct local requests only; set, on its own listener here.
  METRICS_PORT: int(0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
});

export type Config = z.infer<typeof configSchema>;
