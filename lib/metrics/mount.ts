import type { Mount } from "../http/serve.ts";
import type { Metrics } from "./metrics.ts";

/**
 * Prometheus's scrape endpoint at /metrics. Not routed through nginx: scrape each process's own port
 * (or its METRICS_PORT); entry points place it with operatorMounts (lib/config/serve.ts).
 */
export function metricsMount(metrics: Metrics): Mount {
  return {
    prefix: "/metrics",
    handle: async () =>
      new Response(await metrics.scrape(), { headers: { "content-type": metrics.registry.contentType } }),
  };
}
