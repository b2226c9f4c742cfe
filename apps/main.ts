/**
 * The one-process default (`npm start`): every app mounted on one Bun.serve and one port, on the
 * adapters the configuration selects (embedded ones when no service URL is set). The only module
 * that knows more than one app.
 */

import { createSessionVerifier } from "../lib/auth/session-verifier.ts";
import { createBackends } from "../lib/backends.ts";
import { exitOnConfigError, loadConfig } from "../lib/config/index.ts";
import { operatorMounts, serveOptions } from "../lib/config/serve.ts";
import { serveMounts, stopOnSignal } from "../lib/http/serve.ts";
import { staticDirMount } from "../lib/http/static-dir.ts";
import { createLogger, logProcessWarnings } from "../lib/log/index.ts";
import { appMetrics, metricsMount } from "../lib/metrics/index.ts";
import { createHttpApi } from "./http-api/app.ts";
import { httpApiMounts } from "./http-api/mount.ts";
import { createPresenceNode } from "./presence-node/node.ts";
import { createWebMount, isClientRoute } from "./web/serve.ts";
import { createWsNode, wsNodeDeps } from "./ws-node/node.ts";

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { app: "chattalk" });
logProcessWarnings(log);
const backends = await createBackends(config, log, "one-process").catch(exitOnConfigError);
const metrics = appMetrics(config, "chattalk", backends.nodeId, true);
const bus = metrics.timeBus(backends.bus);
// One verifier, so both endpoints share its cache of session checks.
const verifyToken = createSessionVerifier({ tokens: backends.tokens, users: backends.stores.users });

const ws = createWsNode({ ...wsNodeDeps(config, backends, log, bus), verifyToken });
const presence = createPresenceNode({
  config,
  rooms: backends.stores.rooms,
  view: backends.presenceView,
  bus: backends.bus,
  verifyToken,
  log,
});
const api = createHttpApi({
  config,
  stores: backends.stores,
  bus,
  backlog: backends.backlog,
  tokens: backends.tokens,
  limiters: backends.limiters,
  log,
});

await backends.limiters.ready();
await ws.start();
await presence.start();
metrics.observeEndpoint("ws", ws.endpoint);
metrics.observeEndpoint("presence", presence.endpoint);
metrics.observeDeliveries(() => ws.hub.delivered);
metrics.observeEpochConflicts(() => ws.epochs.conflicts);
metrics.observeReplays(() => ({
  counts: ws.replayStats,
  recentBytes: ws.hub.recent.bytes,
  gate: ws.replayGate.stats,
}));
metrics.observeDuplicates(() => ({
  retriesAnswered: ws.publisher.retriesAnswered,
  copiesDropped: ws.duplicates.stats.dropped,
  evictedEarly: ws.duplicates.stats.evictedEarly,
}));
const operator = operatorMounts(config, [metricsMount(metrics)]);
const server = serveMounts(serveOptions(config), [
  { prefix: "/ws", handle: (req, srv, ip) => ws.endpoint.upgrade(req, srv, ip) },
  { prefix: "/presence", handle: (req, srv, ip) => presence.endpoint.upgrade(req, srv, ip) },
  ...httpApiMounts(api),
  ...operator.appMounts,
  config.WEB_DIR ? staticDirMount(config.WEB_DIR, { indexFor: isClientRoute }) : await createWebMount(),
]);
ws.endpoint.attach(server);
presence.endpoint.attach(server);
log("info", "ChatTalk is up", { url: `http://${server.hostname}:${server.port}/`, dataDir: config.DATA_DIR });

stopOnSignal(async () => {
  await Promise.all([ws.stop(), presence.stop()]);
  server.stop(true);
  operator.listener?.stop(true);
  await backends.close();
  await metrics.close();
}, log);
