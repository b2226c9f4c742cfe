import type { Mount } from "../../lib/http/serve.ts";
import type { WsNode } from "./node.ts";

/** The messaging node at /ws, with its own health endpoints for a load balancer. */
export function wsNodeMounts(node: WsNode, ready: () => Promise<boolean>): Mount[] {
  return [
    { prefix: "/ws", handle: (req, server, ip) => node.endpoint.upgrade(req, server, ip) },
    { prefix: "/healthz", handle: () => Response.json({ status: "ok" }) },
    {
      prefix: "/readyz",
      handle: async () => {
        const ok = await ready().catch(() => false);
        return Response.json({ status: ok ? "ready" : "unavailable" }, { status: ok ? 200 : 503 });
      },
    },
  ];
}
