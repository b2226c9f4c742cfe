import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@stomp/stompjs";
import type { Subprocess } from "bun";
import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import { presenceDestination } from "../../lib/chat/destinations.ts";
import { parseConfig } from "../../lib/config/index.ts";
import { createSqliteStores } from "../../lib/store/sqlite/index.ts";
import type { Stores } from "../../lib/store/types.ts";
import { eventually } from "../../testkit/eventually.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";

/**
 * ws-node and presence-node as separate processes on real Redis, with default presence timings:
 * a chat subscription makes its user online; a ws-node killed with SIGKILL takes its users offline
 * within the 15 s bound. The processes share a SQLite store and JWT secret with this test.
 */
const JWT_SECRET = "presence-processes-test-secret-long-enough!";

/** Starts `bun <entry>` and resolves with its URL once it logs `msg`. */
async function spawnApp(
  entry: string,
  msg: string,
  env: Record<string, string>,
): Promise<{ proc: Subprocess; url: string }> {
  const proc = Bun.spawn(["bun", entry], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      ...env,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  const reader = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${entry} exited before logging "${msg}": ${buffered.slice(-500)}`);
    buffered += value;
    for (const line of buffered.split("\n")) {
      if (!line.startsWith("{")) continue;
      const entryLog = JSON.parse(line);
      if (entryLog.msg === msg) {
        // Keep draining stderr so the child never blocks on a full pipe.
        void (async () => {
          while (!(await reader.read()).done) {}
        })();
        return { proc, url: entryLog.url };
      }
    }
  }
}

function stompjs(url: string, token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client({
      webSocketFactory: () => new WebSocket(url, ["v12.stomp"]),
      connectHeaders: { passcode: token },
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      onConnect: () => resolve(client),
      onStompError: (f) => reject(new Error(f.headers.message)),
    });
    client.activate();
  });
}

describe.skipIf(skipWithout("redis"))("ws-node and presence-node as processes", () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-presence-procs-"));
  const env = {
    DATA_DIR: dir,
    JWT_SECRET,
    REDIS_URL: serviceUrl("redis") ?? "",
    // Presence of its own in the shared Redis, never under the default (empty) prefix.
    REDIS_KEY_PREFIX: `presence-procs-${crypto.randomUUID().slice(0, 8)}:`,
  };
  const procs: Subprocess[] = [];
  let stores: Stores;

  beforeAll(() => {
    stores = createSqliteStores(join(dir, "chattalk.db"));
  });
  afterAll(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a chat subscription shows its user online; SIGKILL of the ws-node takes them offline", async () => {
    const tokens = tokenServiceFromConfig(parseConfig(env));
    const alice = await stores.users.createUser(`alice${crypto.randomUUID().slice(0, 6)}`, "x");
    const bob = await stores.users.createUser(`bob${crypto.randomUUID().slice(0, 6)}`, "x");
    const room = await stores.rooms.createRoom({ name: "procs", ownerId: alice.id, maxMembers: 10 });
    await stores.rooms.join(room.id, bob.id, 0);

    const presence = await spawnApp("apps/presence-node/main.ts", "presence-node listening", {
      ...env,
      NODE_ID: "p1",
    });
    procs.push(presence.proc);
    const ws = await spawnApp("apps/ws-node/main.ts", "ws-node listening", {
      ...env,
      NODE_ID: `ws-${process.pid}`,
    });
    procs.push(ws.proc);

    const watcher = await stompjs(presence.url, await tokens.issueAccessToken(alice));
    const bodies: {
      type: string;
      online?: { id: string }[];
      joined?: { id: string }[];
      left?: { id: string }[];
    }[] = [];
    watcher.subscribe(presenceDestination(room.id), (m) => bodies.push(JSON.parse(m.body)));
    await eventually(() => bodies.length === 1, "the snapshot");
    expect(bodies[0]!.type).toBe("snapshot");
    expect(bodies[0]!.online).toEqual([]);

    const chat = await stompjs(ws.url, await tokens.issueAccessToken(bob));
    chat.subscribe(`/topic/rooms/${room.id}`, () => {});
    await eventually(() => bodies.some((b) => b.joined?.some((u) => u.id === bob.id)), "bob online");

    ws.proc.kill("SIGKILL");
    await ws.proc.exited;
    await eventually(() => bodies.some((b) => b.left?.some((u) => u.id === bob.id)), "bob offline", 15_000);
    await chat.deactivate().catch(() => {});
    await watcher.deactivate();
  }, 30_000);
});
