import { expect, test } from "bun:test";
import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import { openStores } from "../../lib/backends.ts";
import { parseConfig } from "../../lib/config/index.ts";
import { startAppProcess } from "../../testkit/app-process.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

test("SIGTERM: clients get a clean close (1001) and the process exits 0", async () => {
  const env = { JWT_SECRET: "shutdown-test-secret-long-enough-for-hs256" };
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
}, 30_000);
