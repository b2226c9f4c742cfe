/** Builds an http-api on throwaway embedded stores, bus and backlog for route tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHttpApi, type HttpApiDeps } from "../apps/http-api/app.ts";
import { tokenServiceFromConfig } from "../lib/auth/index.ts";
import { createPasswordHasher } from "../lib/auth/password.ts";
import type { TokenService } from "../lib/auth/tokens.ts";
import { createSqliteBacklog } from "../lib/backlog/sqlite.ts";
import type { Backlog } from "../lib/backlog/types.ts";
import { createSqliteBus } from "../lib/bus/sqlite-log.ts";
import { BusUnavailableError, type MessageBus } from "../lib/bus/types.ts";
import type { ChatMessage } from "../lib/chat/message.ts";
import { parseConfig } from "../lib/config/index.ts";
import { createMemoryLimiterFactory } from "../lib/ratelimit/memory.ts";
import { createSqliteStores } from "../lib/store/sqlite/index.ts";
import type { Stores } from "../lib/store/types.ts";
import { TEST_PASSWORD } from "./credentials.ts";

export interface TestApi {
  app: ReturnType<typeof createHttpApi>;
  stores: Stores;
  bus: MessageBus;
  backlog: Backlog;
  tokens: TokenService;
  /** Every message the app published, in order. */
  published: ChatMessage[];
  controls: unknown[];
  /** Copies what the app published into the backlog, as the backlog writer would. */
  syncBacklog(): Promise<void>;
  call(
    method: string,
    path: string,
    opts?: {
      body?: unknown;
      token?: string;
      ip?: string;
      headers?: Record<string, string>;
      /** As a direct local request (operator details shown). */
      operator?: boolean;
    },
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON response fields
  ): Promise<{ status: number; body: any; headers: Headers }>;
  signup(
    username?: string,
  ): Promise<{ token: string; refreshToken: string; user: { id: string; username: string } }>;
  dispose(): Promise<void>;
}

let counter = 0;
let signups = 0;
export const uniqueName = (prefix = "user") =>
  `${prefix}${++counter}${Math.random().toString(36).slice(2, 7)}`;

export async function startTestApi(
  overrides: Partial<HttpApiDeps> & {
    wrapBus?: (b: MessageBus) => MessageBus;
    /** Settings beyond the test defaults, as environment strings. */
    env?: Record<string, string>;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-http-"));
  const config = parseConfig({
    DATA_DIR: dir,
    JWT_SECRET: "test-secret-test-secret-test-secret-0123",
    ...overrides.env,
  });
  const stores = createSqliteStores(":memory:");
  const realBus = createSqliteBus(":memory:");
  const backlog = createSqliteBacklog(":memory:");
  const tokens = tokenServiceFromConfig(config);
  const published: ChatMessage[] = [];
  const controls: unknown[] = [];
  let synced = 0;
  // Records what the app sends through the real bus, so tests can assert on it deterministically.
  const recording: MessageBus = {
    ...realBus,
    publish: async (draft) => {
      const m = await realBus.publish(draft);
      published.push(m);
      return m;
    },
    publishControl: async (event) => {
      await realBus.publishControl(event);
      controls.push(event);
    },
  };
  const bus = overrides.wrapBus ? overrides.wrapBus(recording) : recording;
  const app = createHttpApi({
    config,
    stores,
    bus,
    backlog,
    tokens,
    // Cheap hashes, and room for the bursts of sign-ups some tests make; the pool's refusal has its own tests.
    passwords: createPasswordHasher({ memoryCost: 1024, timeCost: 1, queueLimit: 1_000 }),
    // One replica's in-process buckets, on the test's clock.
    limiters: createMemoryLimiterFactory(overrides.now ? { now: overrides.now } : {}),
    ...overrides,
  });

  const api: TestApi = {
    app,
    stores,
    bus,
    backlog,
    tokens,
    published,
    controls,
    async syncBacklog() {
      await backlog.append(published.slice(synced));
      synced = published.length;
    },
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        headers["content-type"] ??= "application/json";
        body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      }
      const res = await app.request(
        path,
        { method, headers, body },
        {
          clientIp: opts.ip ?? "192.0.2.1",
          operator: opts.operator ?? false,
        },
      );
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get("content-type") ?? "").includes("json")) parsed = JSON.parse(text);
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async signup(username = uniqueName()) {
      // Each test user signs up from its own (documentation-range) address, clear of the per-IP limit.
      const n = ++signups;
      const ip = `198.18.${(n >> 8) & 255}.${n & 255}`;
      const res = await api.call("POST", "/api/auth/signup", {
        body: { username, password: TEST_PASSWORD },
        ip,
      });
      if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
      return { token: res.body.accessToken, refreshToken: res.body.refreshToken, user: res.body.user };
    },
    async dispose() {
      await realBus.close();
      await backlog.close();
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}

/** A bus that refuses every publish, as Kafka does when it cannot take a message in time. */
export const refusingBus = (bus: MessageBus): MessageBus => ({
  ...bus,
  publish: async () => {
    throw new BusUnavailableError("bus down");
  },
  publishControl: async () => {
    throw new BusUnavailableError("bus down");
  },
});

/** A well-formed room id that no room has. */
export const MISSING_ROOM = "01900000-0000-7000-8000-000000000000";

export async function createRoomAs(api: TestApi, owner: { token: string }, maxMembers = 5, name = "lobby") {
  const res = await api.call("POST", "/api/rooms", { token: owner.token, body: { name, maxMembers } });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.room as { id: string; memberCount: number };
}
