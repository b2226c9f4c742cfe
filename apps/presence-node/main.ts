/** The presence service as its own process: `bun apps/presence-node/main.ts` (needs REDIS_URL). */

import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import { nodeIdFrom } from "../../lib/backends.ts";
import { createBus } from "../../lib/bus/index.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { serveMounts, stopOnSignal } from "../../lib/http/serve.ts";
import { createLogger } from "../../lib/log/index.ts";
import { createMetrics, metricsMount } from "../../lib/metrics/index.ts";
import { createPresence } from "../../lib/presence/index.ts";
import { createStores } from "../../lib/store/index.ts";
import { presenceNodeMounts } from "./mount.ts";
import { createPresenceNode } from "./node.ts";

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { app: "presence-node" });
if (!config.REDIS_URL) {
  // The in-process roster only sees reports from its own process: alone it would always be empty.
  process.stderr.write(
    "config: REDIS_URL: required for a separate presence-node (the one-process app embeds presence)\n",
  );
  process.exit(1);
}
const stores = await createStores(config);
const tokens = tokenServiceFromConfig(config);
const { view } = createPresence(config, nodeIdFrom(config), log);
// Only for membership control events; the presence-node never publishes.
const bus = await createBus(config, { log });
const node = createPresenceNode({
  config,
  rooms: stores.rooms,
  view,
  bus,
  verifyToken: (t) => tokens.verifyAccessToken(t),
  log,
});
await node.start();
const metrics = createMetrics({ app: "presence-node", node: nodeIdFrom(config) });
metrics.observeEndpoint("presence", node.endpoint);
const server = serveMounts(config, [
  ...presenceNodeMounts(node, async () => {
    await stores.ping();
    return true;
  }),
  metricsMount(metrics),
]);
node.endpoint.attach(server);
log("info", "presence-node listening", {
  url: `ws://${server.hostname}:${server.port}/presence`,
  healthy: node.healthy,
});

stopOnSignal(async () => {
  await node.stop();
  server.stop(true);
  await bus.close();
  await stores.close();
  await metrics.close();
}, log);
