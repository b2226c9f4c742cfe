import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Db, MongoClient, MongoServerError } from "mongodb";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";

interface SmokeItem {
  name: string;
  rank: number;
}

/** MongoDB's error code for a unique index violation. */
const duplicateKey = 11000;

describe.skipIf(skipWithout("mongo"))("mongo smoke (official driver against FerretDB)", () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = new MongoClient(serviceUrl("mongo")!, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    db = client.db(`chattalk_smoke_${crypto.randomUUID().replaceAll("-", "")}`);
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  test("insert and find by a range filter", async () => {
    const items = db.collection<SmokeItem>("items");
    const inserted = await items.insertMany([
      { name: "alpha", rank: 1 },
      { name: "beta", rank: 2 },
      { name: "gamma", rank: 3 },
    ]);
    expect(inserted.insertedCount).toBe(3);

    const found = await items
      .find({ rank: { $gte: 2 } })
      .project<SmokeItem>({ _id: 0 })
      .sort({ rank: 1 })
      .toArray();
    expect(found).toEqual([
      { name: "beta", rank: 2 },
      { name: "gamma", rank: 3 },
    ]);
  });

  test("a unique index rejects a duplicate with error 11000", async () => {
    const users = db.collection<SmokeItem>("users");
    await users.insertOne({ name: "ada", rank: 1 });
    const indexName = await users.createIndex({ name: 1 }, { unique: true, name: "name_unique" });
    expect(indexName).toBe("name_unique");
    const indexes = await users.indexes();
    expect(indexes.find((index) => index.name === "name_unique")).toMatchObject({ unique: true });

    const error = await users.insertOne({ name: "ada", rank: 2 }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(duplicateKey);
    expect(await users.countDocuments({ name: "ada" })).toBe(1);
  });
});
