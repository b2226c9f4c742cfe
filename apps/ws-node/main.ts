/** A messaging node as its own process: `bun apps/ws-node/main.ts`. */

import { createBackends } from "../../lib/backends.ts";
import { exitOnConfigError, loadConfig } from "../../lib/config/index.ts";
import { operatorMounts, serveOptions } from "../../lib/config/serve.ts";
import { serveMounts, stopOnSignal } from "../../lib/http/serve.ts";
import { createLogger, logProcessWarnings } from "../../lib/log/index.ts";
import { appMetrics, metricsMount } from "../../lib/metrics/index.ts";
import { wsNodeMounts } from "./mount.ts";
import { createWsNode, wsNodeDeps } from "./node.ts";

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { app: "ws-node" });
logProcessWarnings(log);
const backends = await createBackends(config, log, "ws-node").catch(exitOnConfigError);
const metrics = appMetrics(config, "ws-node", backends.nodeId, true);
const node = createWsNode(wsNodeDeps(config, backends, log, metrics.timeBus(backends.bus)));
await node.start();
metrics.observeEndpoint("ws", node.endpoint);
metrics.observeDeliveries(() => node.hub.delivered);
metrics.observeEpochConflicts(() => node.epochs.conflicts);
metrics.observeReplays(() => ({
  counts: node.replayStats,
  recentBytes: node.hub.recent.bytes,
  gate: node.replayGate.stats,
}));
metrics.observeDuplicates(() => ({
  retriesAnswered: node.publisher.retriesAnswered,
  copiesDropped: node.duplicates.stats.dropped,
  evictedEarly: node.duplicates.stats.evictedEarly,
}));
const operator = operatorMounts(config, [metricsMount(metrics)]);
const server = serveMounts(serveOptions(config), [
  ...wsNodeMounts(node, async () => {
    await Promise.all([backends.stores.ping(), backends.backlog.ping()]);
    return true;
  }),
  ...operator.appMounts,
]);
node.endpoint.attach(server);
log("info", "ws-node listening", { url: `ws://${server.hostname}:${server.port}/ws`, node: backends.nodeId });

// scripts/cluster rebalance: each SIGUSR2 moves a tenth of this node's connections elsewhere.
process.on("SIGUSR2", () => void node.shed(0.1));

stopOnSignal(async () => {
  await node.stop();
  server.stop(true);
  operator.listener?.stop(true);
  await backends.close();
  await metrics.close();
}, log);
