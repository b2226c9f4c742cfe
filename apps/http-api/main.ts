/** The http-api as its own process: `bun apps/http-api/main.ts`. Migrates the store on start. */

import { createBackends } from "../../lib/backends.ts";
import { exitOnConfigError, loadConfig } from "../../lib/config/index.ts";
import { operatorMounts, serveOptions } from "../../lib/config/serve.ts";
import { serveMounts, stopOnSignal } from "../../lib/http/serve.ts";
import { createLogger, logProcessWarnings } from "../../lib/log/index.ts";
import { createMetrics, metricsMount } from "../../lib/metrics/index.ts";
import { createHttpApi } from "./app.ts";
import { httpApiMounts } from "./mount.ts";

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { app: "http-api" });
logProcessWarnings(log);
const backends = await createBackends(config, log, "http-api").catch(exitOnConfigError);
const metrics = createMetrics({ app: "http-api", node: backends.nodeId });
const app = createHttpApi({
  config,
  stores: backends.stores,
  bus: metrics.timeBus(backends.bus),
  backlog: backends.backlog,
  tokens: backends.tokens,
  limiters: backends.limiters,
  log,
});
await backends.limiters.ready(); // so the first logins are already counted across replicas
const operator = operatorMounts(config, [metricsMount(metrics)]);
const server = serveMounts(serveOptions(config), [...httpApiMounts(app), ...operator.appMounts]);
log("info", "http-api listening", {
  url: `http://${server.hostname}:${server.port}/api`,
  node: backends.nodeId,
});

stopOnSignal(async () => {
  await server.stop();
  operator.listener?.stop(true);
  await backends.close();
  await metrics.close();
}, log);
