import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@stomp/stompjs";
import type { Server } from "bun";
import { presenceNodeMounts } from "../apps/presence-node/mount.ts";
import { createPresenceNode, type PresenceNode } from "../apps/presence-node/node.ts";
import { createSqliteBus } from "../lib/bus/sqlite-log.ts";
import type { MessageBus } from "../lib/bus/types.ts";
import { parseConfig } from "../lib/config/index.ts";
import { serveOptions } from "../lib/config/serve.ts";
import { serveMounts } from "../lib/http/serve.ts";
import { silentLogger } from "../lib/log/index.ts";
import type { PresenceView } from "../lib/presence/types.ts";
import type { Principal } from "../lib/stomp/server/app.ts";
import type { ConnData } from "../lib/stomp/server/websocket.ts";
import { createSqliteStores } from "../lib/store/sqlite/index.ts";
import type { Stores, User } from "../lib/store/types.ts";

/** A presence node in this process on a free port, over a real SQLite room store. */
export interface PresenceHarness {
  url: string;
  stores: Stores;
  bus: MessageBus;
  node: PresenceNode;
  server: Server<ConnData>;
  user(name: string): Promise<{ user: User; token: string }>;
  stop(): Promise<void>;
}

export async function startPresenceHarness(view: PresenceView): Promise<PresenceHarness> {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-presence-"));
  const config = parseConfig({
    DATA_DIR: dir,
    PORT: "0",
    LOG_LEVEL: "silent",
    HEARTBEAT_MIN_CLIENT_MS: "100",
  });
  const stores = createSqliteStores(join(dir, "test.db"));
  const principals = new Map<string, Principal>();
  const bus = createSqliteBus(":memory:");
  const node = createPresenceNode({
    config,
    rooms: stores.rooms,
    view,
    bus,
    verifyToken: async (token) => {
      const p = principals.get(token);
      if (!p) throw new Error("unknown token");
      return p;
    },
    log: silentLogger,
  });
  await node.start();
  const server = serveMounts(
    serveOptions(config),
    presenceNodeMounts(node, async () => true),
  );
  node.endpoint.attach(server);
  return {
    bus,
    url: `ws://127.0.0.1:${server.port}/presence`,
    stores,
    node,
    server,
    async user(name) {
      const user = await stores.users.createUser(`${name}${crypto.randomUUID().slice(0, 6)}`, "x");
      const token = crypto.randomUUID();
      principals.set(token, { userId: user.id, username: user.username });
      return { user, token };
    },
    async stop() {
      await node.stop();
      server.stop(true);
      await stores.close();
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export /** A @stomp/stompjs client; `errors` collects ERROR frames' message headers. */
async function connect(url: string, token: string): Promise<{ client: Client; errors: string[] }> {
  const errors: string[] = [];
  const client = await new Promise<Client>((resolve, reject) => {
    const c = new Client({
      webSocketFactory: () => new WebSocket(url, ["v12.stomp"]),
      connectHeaders: { passcode: token },
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      onConnect: () => resolve(c),
      onStompError: (f) => {
        errors.push(f.headers.message ?? "");
        reject(new Error(f.headers.message));
      },
    });
    c.activate();
  });
  return { client, errors };
}
