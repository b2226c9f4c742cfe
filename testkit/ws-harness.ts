import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { wsNodeMounts } from "../apps/ws-node/mount.ts";
import { createWsNode, type WsNode, wsNodeDeps } from "../apps/ws-node/node.ts";
import { type Backends, createBackends } from "../lib/backends.ts";
import { type Config, parseConfig } from "../lib/config/index.ts";
import { serveOptions } from "../lib/config/serve.ts";
import { serveMounts } from "../lib/http/serve.ts";
import { silentLogger } from "../lib/log/index.ts";
import type { ConnData } from "../lib/stomp/server/websocket.ts";
import type { Room, User } from "../lib/store/types.ts";

export const TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256!";

export interface WsHarness {
  url: string;
  config: Config;
  backends: Backends<"ws-node">;
  node: WsNode;
  server: Server<ConnData>;
  user(name?: string): Promise<{ user: User; token: string }>;
  room(ownerId: string, maxMembers?: number): Promise<Room>;
  join(roomId: string, userId: string): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * A ws-node in this process on a free port, on embedded adapters by default (env overrides select
 * real ones), with helpers to make users, tokens and rooms directly in its stores.
 */
export async function startWsHarness(env: Record<string, string> = {}): Promise<WsHarness> {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-ws-"));
  const config = parseConfig({
    DATA_DIR: dir,
    PORT: "0",
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: "silent",
    HEARTBEAT_MIN_CLIENT_MS: "100",
    ...env,
  });
  const backends = await createBackends(config, silentLogger, "ws-node");
  const node = createWsNode(wsNodeDeps(config, backends, silentLogger));
  await node.start();
  const server = serveMounts(
    serveOptions(config),
    wsNodeMounts(node, async () => true),
  );
  node.endpoint.attach(server);
  return {
    url: `ws://127.0.0.1:${server.port}/ws`,
    config,
    backends,
    node,
    server,
    async user(name = "user") {
      const user = await backends.stores.users.createUser(`${name}${++counter}${process.pid}`, "x");
      return { user, token: await backends.tokens.issueAccessToken(user) };
    },
    room(ownerId, maxMembers = 100) {
      return backends.stores.rooms.createRoom({ name: `room ${++counter}`, ownerId, maxMembers });
    },
    async join(roomId, userId) {
      await backends.stores.rooms.join(roomId, userId, 0);
    },
    async stop() {
      await node.stop();
      server.stop(true);
      await backends.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
