import { describe, expect, test } from "bun:test";
import { MongoClient } from "mongodb";
import { backlogContract } from "../../testkit/contracts/backlog.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { createMongoBacklog } from "./mongo.ts";

const message = {
  id: "m1",
  roomId: "r",
  seq: 1,
  type: "message" as const,
  sender: { id: "u", username: "u" },
  text: "hi",
  sentAt: "2026-01-01T00:00:00.000Z",
};

describe.skipIf(skipWithout("mongo"))("mongo backlog contract", () => {
  const url = serviceUrl("mongo") ?? "";
  const dbName = `chattalk_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  backlogContract({
    open: async () => createMongoBacklog(url, dbName),
    teardown: async () => {
      const client = new MongoClient(url);
      try {
        await client.db(dbName).dropDatabase();
      } finally {
        await client.close();
      }
    },
    timeoutMs: 20_000,
  });
});

describe.skipIf(skipWithout("mongo"))("mongo backlog", () => {
  test("the first write creates the unique (roomId, seq) index", async () => {
    const url = serviceUrl("mongo") ?? "";
    const dbName = `chattalk_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const backlog = createMongoBacklog(url, dbName);
    const client = new MongoClient(url);
    try {
      await backlog.append([message]);
      const indexes = await client.db(dbName).collection("messages").listIndexes().toArray();
      const roomSeq = indexes.find((i) => i.name === "room_seq");
      expect(roomSeq?.key).toEqual({ roomId: 1, seq: 1 });
      expect(roomSeq?.unique).toBe(true);
    } finally {
      await backlog.close();
      await client.db(dbName).dropDatabase();
      await client.close();
    }
  }, 20_000);
});

test("an unreachable server makes calls reject instead of hanging", async () => {
  const backlog = createMongoBacklog("mongodb://127.0.0.1:1/", "unreachable", {
    serverSelectionTimeoutMS: 200,
  });
  await expect(backlog.append([message])).rejects.toThrow();
  await expect(backlog.after("r", 0, 10)).rejects.toThrow();
  await backlog.close();
});
