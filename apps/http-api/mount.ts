import type { Mount } from "../../lib/http/serve.ts";
import type { ApiApp } from "./context.ts";

/**
 * The http-api at /api, /healthz and /readyz. The client address that serveMounts worked out
 * (socket peer, or X-Forwarded-For when TRUST_PROXY) reaches the app as `env.clientIp`.
 */
export function httpApiMounts(app: ApiApp): Mount[] {
  const handle: Mount["handle"] = (req, _server, ip) => app.fetch(req, { clientIp: ip });
  return ["/api", "/healthz", "/readyz"].map((prefix) => ({ prefix, handle }));
}
