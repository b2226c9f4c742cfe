import { afterAll, expect, test } from "bun:test";
import { MongoClient } from "mongodb";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { startTcpProxy, type TcpProxy } from "../../testkit/tcp-proxy.ts";
import { BACKLOG_CONNECT_TIMEOUT_MS, BACKLOG_SOCKET_TIMEOUT_MS, createMongoBacklog } from "./mongo.ts";

const dbName = `chattalk_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
let proxy: TcpProxy | undefined;
afterAll(async () => {
  await proxy?.close();
  if (skipWithout("mongo")) return;
  const client = new MongoClient(serviceUrl("mongo")!);
  await client.db(dbName).dropDatabase();
  await client.close();
});

const message = (seq: number) => ({
  id: `m${seq}`,
  roomId: "stall",
  seq,
  type: "message" as const,
  sender: { id: "u", username: "u" },
  text: "hi",
  sentAt: "2026-01-01T00:00:00.000Z",
});

test.skipIf(skipWithout("mongo"))(
  "a stalled connection to the backlog fails the call within bounds, not after minutes, and the next call works",
  async () => {
    const target = new URL(serviceUrl("mongo")!);
    proxy = await startTcpProxy(target.host);
    const backlog = createMongoBacklog(`mongodb://${proxy.address}/`, dbName);
    try {
      await backlog.append([message(1)]);
      proxy.stall();
      const started = performance.now();
      await expect(backlog.lastSeq("stall")).rejects.toThrow();
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(BACKLOG_SOCKET_TIMEOUT_MS - 100);
      // The read is retried once on a new connection, whose handshake is bounded too (the driver's
      // defaults took 45-60 s here: no socket limit, 30 s per handshake).
      expect(took).toBeLessThan(BACKLOG_SOCKET_TIMEOUT_MS + 3 * BACKLOG_CONNECT_TIMEOUT_MS);
      proxy.resume();
      expect(await backlog.lastSeq("stall")).toBe(1);
    } finally {
      await backlog.close();
    }
  },
  60_000,
);

test.skipIf(skipWithout("mongo"))(
  "a backlog whose first connection failed works once the server answers (the driver had closed it for good)",
  async () => {
    const target = new URL(serviceUrl("mongo")!);
    const blocked = await startTcpProxy(target.host);
    const backlog = createMongoBacklog(`mongodb://${blocked.address}/`, dbName, {
      client: { serverSelectionTimeoutMS: 500 },
    });
    try {
      blocked.stall();
      await expect(backlog.lastSeq("first")).rejects.toThrow();
      blocked.resume();
      // Before: "Topology is closed" on this and every later call, however long the server had been back.
      expect(await backlog.lastSeq("first")).toBe(0);
      await backlog.append([{ ...message(1), roomId: "first" }]);
      expect(await backlog.lastSeq("first")).toBe(1);
    } finally {
      await backlog.close();
      await blocked.close();
    }
  },
  60_000,
);

test.skipIf(skipWithout("mongo"))(
  "a client that finds no server for longer than replaceAfterMs is replaced, and the fresh one works",
  async () => {
    const target = new URL(serviceUrl("mongo")!);
    const blocked = await startTcpProxy(target.host);
    const replaced: string[] = [];
    const backlog = createMongoBacklog(`mongodb://${blocked.address}/`, dbName, {
      client: { serverSelectionTimeoutMS: 200 },
      replaceAfterMs: 600,
      onReplace: (reason) => replaced.push(reason),
    });
    try {
      expect(await backlog.lastSeq("replace")).toBe(0);
      blocked.stall();
      // Failing calls for a while: no replacement before the window has passed.
      await expect(backlog.lastSeq("replace")).rejects.toThrow();
      expect(replaced).toEqual([]);
      const until = performance.now() + 3_000;
      while (replaced.length === 0 && performance.now() < until) {
        await backlog.lastSeq("replace").catch(() => undefined);
      }
      expect(replaced).toEqual(["unreachable"]);
      blocked.resume();
      expect(await backlog.lastSeq("replace")).toBe(0);
      await backlog.append([{ ...message(1), roomId: "replace" }]);
      expect(await backlog.lastSeq("replace")).toBe(1);
      // The fresh client's own first connection may have failed while the path was still stalled:
      // it is replaced in turn ("closed"), never left broken.
      expect(replaced.every((r, i) => (i === 0 ? r === "unreachable" : r === "closed"))).toBe(true);
    } finally {
      await backlog.close();
      await blocked.close();
    }
  },
  60_000,
);
