import type { Mount } from "../../lib/http/serve.ts";
import type { PresenceNode } from "./node.ts";

/** The presence node at /presence, with health endpoints; /readyz fails while presence is degraded. */
export function presenceNodeMounts(node: PresenceNode, ready: () => Promise<boolean>): Mount[] {
  return [
    { prefix: "/presence", handle: (req, server, ip) => node.endpoint.upgrade(req, server, ip) },
    { prefix: "/healthz", handle: () => Response.json({ status: "ok" }) },
    {
      prefix: "/readyz",
      handle: async () => {
        const stores = await ready().catch(() => false);
        const ok = stores && node.healthy;
        const body = {
          status: ok ? "ready" : "unavailable",
          presence: node.healthy ? "ok" : "degraded",
          stores,
        };
        return Response.json(body, { status: ok ? 200 : 503 });
      },
    },
  ];
}
