/** A messaging node as its own process: `bun apps/ws-node/main.ts`. */

import { createBackends } from "../../lib/backends.ts";
import { startBacklogWriter } from "../../lib/backlog/index.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { serveMounts, stopOnSignal } from "../../lib/http/serve.ts";
import { createLogger } from "../../lib/log/index.ts";
import { appMetrics, metricsMount } from "../../lib/metrics/index.ts";
import { wsNodeMounts } from "./mount.ts";
import { createWsNode, wsNodeDeps } from "./node.ts";

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { app: "ws-node" });
const backends = await createBackends(config, log);
const metrics = appMetrics(config, "ws-node", backends.nodeId, true);
const node = createWsNode(wsNodeDeps(config, backends, log, metrics.timeBus(backends.bus)));
await node.start();
metrics.observeEndpoint("ws", node.endpoint);
metrics.observeDeliveries(() => node.hub.delivered);
// Every node runs a backlog writer; the bus's consumer group decides who writes which partitions.
const stopWriter = await startBacklogWriter(backends.bus, backends.backlog, log);
const server = serveMounts(config, [
  ...wsNodeMounts(node, async () => {
    await Promise.all([backends.stores.ping(), backends.backlog.ping()]);
    return true;
  }),
  metricsMount(metrics),
]);
node.endpoint.attach(server);
log("info", "ws-node listening", { url: `ws://${server.hostname}:${server.port}/ws`, node: backends.nodeId });

// scripts/cluster rebalance: each SIGUSR2 moves a tenth of this node's connections elsewhere.
process.on("SIGUSR2", () => void node.shed(0.1));

stopOnSignal(async () => {
  await node.stop();
  server.stop(true);
  await stopWriter();
  await backends.close();
  await metrics.close();
}, log);
