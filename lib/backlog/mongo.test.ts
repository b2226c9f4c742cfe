import { describe } from "bun:test";
import { MongoClient } from "mongodb";
import { serviceUrl, skipWithout } from "../../test/support/services.ts";
import { backlogContract } from "./contract.ts";
import { createMongoBacklog } from "./mongo.ts";

describe.skipIf(skipWithout("mongo"))("mongo backlog contract", () => {
  const url = serviceUrl("mongo")!;
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
  });
});
