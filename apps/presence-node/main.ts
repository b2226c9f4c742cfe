/** The presence service as its own process: `bun apps/presence-node/main.ts` (needs REDIS_URL). */

import { createSessionVerifier } from "../../lib/auth/session-verifier.ts";
import { createBackends } from "../../lib/backends.ts";
import { exitOnConfigError, loadConfig } from "../../lib/config/index.ts";
import { operatorMounts, serveOptions } from "../../lib/config/serve.ts";
import { serveMounts, stopOnSignal } from "../../lib/http/serve.ts";
import { createLogger, logProcessWarnings } from "../../lib/log/index.ts";
import { createMetrics, metricsMount } from "../../lib/metrics/index.ts";
import { presenceNodeMounts } from "./mount.ts";
import { createPresenceNode } from "./node.ts";

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { app: "presence-node" });
logProcessWarnings(log);
const backends = await createBackends(config, log, "presence-node").catch(exitOnConfigError);
const node = createPresenceNode({
  config,
  rooms: backends.stores.rooms,
  view: backends.presenceView,
  bus: backends.bus,
  verifyToken: createSessionVerifier({ tokens: backends.tokens, users: backends.stores.users }),
  log,
});
await node.start();
const metrics = createMetrics({ app: "presence-node", node: backends.nodeId });
metrics.observeEndpoint("presence", node.endpoint);
const operator = operatorMounts(config, [metricsMount(metrics)]);
const server = serveMounts(serveOptions(config), [
  ...presenceNodeMounts(node, async () => {
    await backends.stores.ping();
    return true;
  }),
  ...operator.appMounts,
]);
node.endpoint.attach(server);
log("info", "presence-node listening", {
  url: `ws://${server.hostname}:${server.port}/presence`,
  healthy: node.healthy,
});

stopOnSignal(async () => {
  await node.stop();
  server.stop(true);
  operator.listener?.stop(true);
  await backends.close();
  await metrics.close();
}, log);
