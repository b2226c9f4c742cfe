import { healthMounts } from "../../lib/http/health.ts";
import type { Mount } from "../../lib/http/serve.ts";
import type { WsNode } from "./node.ts";

/** The messaging node at /ws, with its own health endpoints for a load balancer. */
export function wsNodeMounts(node: WsNode, ready: () => Promise<boolean>): Mount[] {
  return [
    { prefix: "/ws", handle: (req, server, ip) => node.endpoint.upgrade(req, server, ip) },
    ...healthMounts(async () => ({ stores: await ready().catch(() => false) })),
  ];
}
