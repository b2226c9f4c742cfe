import { isDirectLocal } from "../../lib/http/operator.ts";
import type { Mount } from "../../lib/http/serve.ts";
import type { ApiApp } from "./context.ts";

/**
 * The http-api at /api, /healthz and /readyz. The client address that serveMounts worked out
 * (socket peer, or X-Forwarded-For when TRUST_PROXY) reaches the app as `env.clientIp`.
 */
export function httpApiMounts(app: ApiApp): Mount[] {
  const handle: Mount["handle"] = (req, server, ip) =>
    app.fetch(req, { clientIp: ip, operator: isDirectLocal(req, server) });
  return ["/api", "/healthz", "/readyz"].map((prefix) => ({ prefix, handle }));
}
