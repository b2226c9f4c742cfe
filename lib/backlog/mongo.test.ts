import { describe, expect, test } from "bun:test";
import { type Db, MongoClient } from "mongodb";
import { backlogContract } from "../../testkit/contracts/backlog.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { createMongoBacklog, type MongoBacklogOptions, pickLayout } from "./mongo.ts";
import { collectionName, lastIndex } from "./mongo-paged.ts";

const message = (roomId: string, seq: number) => ({
  id: `m${seq}`,
  roomId,
  seq,
  type: "message" as const,
  sender: { id: "u", username: "u" },
  text: "hi",
  sentAt: "2026-01-01T00:00:00.000Z",
});

/** Any document of the paged layout, as a test reads it back. */
interface StoredDoc {
  _id: number | string;
  roomId?: string;
  rank?: number;
  page?: number;
  dir?: boolean;
  index?: number;
  first?: number;
  lastRank?: number;
  lastSeq?: number;
}

const url = () => serviceUrl("mongo") ?? "";
const freshDb = () => `chattalk_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;

async function dropDb(dbName: string): Promise<void> {
  const client = new MongoClient(url());
  try {
    await client.db(dbName).dropDatabase();
  } finally {
    await client.close();
  }
}

/** The contract for each layout on the server at hand; the paged one also with tiny pages. */
const variants: [string, MongoBacklogOptions][] = [
  ["layout picked from the server", {}],
  ["indexed layout", { layout: "indexed" }],
  ["paged layout, 4 messages a page", { layout: "paged", pageSize: 4 }],
];
for (const [name, options] of variants) {
  describe.skipIf(skipWithout("mongo"))(`mongo backlog contract (${name})`, () => {
    const dbName = freshDb();
    backlogContract({
      open: async () => createMongoBacklog(url(), dbName, options),
      teardown: () => dropDb(dbName),
      timeoutMs: 30_000,
    });
  });
}

describe.skipIf(skipWithout("mongo"))("mongo backlog", () => {
  test("the indexed layout's first write creates the unique (roomId, seq) index", async () => {
    const dbName = freshDb();
    const backlog = createMongoBacklog(url(), dbName, { layout: "indexed" });
    const client = new MongoClient(url());
    try {
      await backlog.append([message("r", 1)]);
      const indexes = await client.db(dbName).collection("messages").listIndexes().toArray();
      const roomSeq = indexes.find((i) => i.name === "room_seq");
      expect(roomSeq?.key).toEqual({ roomId: 1, seq: 1 });
      expect(roomSeq?.unique).toBe(true);
    } finally {
      await backlog.close();
      await client.close();
      await dropDb(dbName);
    }
  }, 20_000);

  test("the paged layout keeps each room in its own collection, ranked densely, a directory entry per page, a tail", async () => {
    const dbName = freshDb();
    const backlog = createMongoBacklog(url(), dbName, { layout: "paged", pageSize: 3 });
    const client = new MongoClient(url());
    try {
      await backlog.append([...[5, 7, 8, 20, 21, 30, 31].map((s) => message("a", s)), message("b$x", 6)]);
      const docs = await client.db(dbName).collection<StoredDoc>(collectionName("a")).find({}).toArray();
      const messages = docs.filter((d) => typeof d._id === "number").sort((x, y) => x.rank! - y.rank!);
      expect(messages.map((d) => [d._id, d.rank, d.page])).toEqual([
        [5, 1, 0],
        [7, 2, 0],
        [8, 3, 0],
        [20, 4, 1],
        [21, 5, 1],
        [30, 6, 1],
        [31, 7, 2],
      ]);
      const directory = docs.filter((d) => d.dir).sort((x, y) => x.index! - y.index!);
      expect(directory.map((d) => [d.index, d.first])).toEqual([
        [0, 5],
        [1, 20],
        [2, 31],
      ]);
      expect(docs.find((d) => d._id === "tail")).toEqual({ _id: "tail", lastRank: 7, lastSeq: 31 });
      expect(docs).toHaveLength(7 + 3 + 1);
      const other = await client.db(dbName).collection(collectionName("b$x")).find({}).toArray();
      expect(other.filter((d) => typeof d._id === "number").map((d) => d.roomId)).toEqual(["b$x"]);
    } finally {
      await backlog.close();
      await client.close();
      await dropDb(dbName);
    }
  }, 20_000);
});

describe.skipIf(skipWithout("mongo"))("mongo backlog, paged layout", () => {
  test("a tail left behind (two writers of one room) or missing is only a hint: reads and the next append stay right", async () => {
    const dbName = freshDb();
    const backlog = createMongoBacklog(url(), dbName, { layout: "paged", pageSize: 3 });
    const client = new MongoClient(url());
    const room = client.db(dbName).collection<StoredDoc>(collectionName("t"));
    const seqs = Array.from({ length: 20 }, (_, i) => 10 + i * 2);
    try {
      await backlog.append(seqs.slice(0, 14).map((s) => message("t", s)));
      await room.updateOne({ _id: "tail" }, { $set: { lastRank: 3, lastSeq: seqs[2] } });
      expect(await backlog.lastSeq("t")).toBe(seqs[13]!);
      expect((await backlog.countsAfter(new Map([["t", seqs[5]!]]), 100)).get("t")).toBe(8);
      await backlog.append(seqs.slice(14, 17).map((s) => message("t", s)));
      await room.deleteOne({ _id: "tail" });
      expect(await backlog.lastSeq("t")).toBe(seqs[16]!);
      await backlog.append(seqs.slice(17).map((s) => message("t", s)));
      expect((await backlog.after("t", 0, 100)).map((m) => m.seq)).toEqual(seqs);
      const ranks = (await room.find({ rank: { $exists: true } }).toArray())
        .map((d) => d.rank ?? 0)
        .sort((a, b) => a - b);
      expect(ranks).toEqual(seqs.map((_, i) => i + 1));
      expect(await backlog.lastSeq("t")).toBe(seqs[19]!);
    } finally {
      await backlog.close();
      await client.close();
      await dropDb(dbName);
    }
  }, 30_000);
});

describe("mongo layout choice", () => {
  const server = (info: Record<string, unknown>) => ({ command: async () => info }) as unknown as Db;
  test("FerretDB v1 gets the paged layout; MongoDB and FerretDB v2 the indexed one", async () => {
    expect(await pickLayout(server({ version: "7.0.42", ferretdbVersion: "v1.24.2" }))).toBe("paged");
    expect(await pickLayout(server({ version: "8.0.4" }))).toBe("indexed");
    expect(await pickLayout(server({ version: "7.0.77", ferretdbVersion: "v2.1.0" }))).toBe("indexed");
  });

  test("collection names hold any room id; lastIndex finds the last value a prefix predicate accepts", () => {
    expect(collectionName("0b7c-1")).toBe("backlog.0b7c-1");
    expect(collectionName("a$b")).not.toContain("$");
    expect(collectionName("x".repeat(500)).length).toBeLessThan(100);
    expect(lastIndex([3, 5, 9], (v) => v <= 5)).toBe(1);
    expect(lastIndex([3, 5, 9], (v) => v <= 2)).toBe(-1);
    expect(lastIndex([3, 5, 9], (v) => v <= 9)).toBe(2);
    expect(lastIndex([], () => true)).toBe(-1);
  });
});

test("an unreachable server makes calls reject instead of hanging", async () => {
  const backlog = createMongoBacklog("mongodb://127.0.0.1:1/", "unreachable", {
    client: { serverSelectionTimeoutMS: 200 },
  });
  await expect(backlog.append([message("r", 1)])).rejects.toThrow();
  await expect(backlog.after("r", 0, 10)).rejects.toThrow();
  await backlog.close();
});
