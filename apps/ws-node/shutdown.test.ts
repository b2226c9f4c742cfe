import { expect, test } from "bun:test";
import { MongoClient } from "mongodb";
import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import { openStores } from "../../lib/backends.ts";
import { parseConfig } from "../../lib/config/index.ts";
import { startAppProcess } from "../../testkit/app-process.ts";
import { clusterEnv } from "../../testkit/cluster-env.ts";
import { testTopic } from "../../testkit/kafka.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

test("SIGTERM: clients get a clean close (1001) and the process exits 0", async () => {
  // With service URLs in the environment the child runs on them: its own topic, database and key
  // prefix, never the defaults a developer's cluster fills.
  const run = `shutdown${Date.now().toString(36)}`;
  const topic = testTopic();
  const own = clusterEnv(run, { KAFKA_TOPIC: topic.topic });
  const env = {
    ...own,
    JWT_SECRET: "shutdown-test-secret-long-enough-for-hs256",
  };
  const app = await startAppProcess("apps/ws-node/main.ts", env);
  // The settings the child runs with (service URLs included): the user must be in its store.
  const config = parseConfig({ ...process.env, ...env, DATA_DIR: app.dataDir });
  const stores = await openStores(config);
  const user = await stores.users.createUser(`s${Date.now()}`, "x");
  await stores.close();
  const token = await tokenServiceFromConfig(config).issueAccessToken(user);
  const client = await RawStomp.connect(`${app.url.replace("http:", "ws:")}/ws`, token);

  app.proc.kill("SIGTERM");
  const closed = await client.closed;
  expect(closed.code).toBe(1001);
  expect(await app.proc.exited).toBe(0);
  await app.stop();
  if (process.env.KAFKA_BROKERS) await topic.drop();
  if (process.env.MONGO_URL) {
    const mongo = new MongoClient(process.env.MONGO_URL);
    await mongo.db(own.MONGO_DB).dropDatabase();
    await mongo.close();
  }
}, 30_000);
