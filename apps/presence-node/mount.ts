import { healthMounts } from "../../lib/http/health.ts";
import type { Mount } from "../../lib/http/serve.ts";
import type { PresenceNode } from "./node.ts";

/** The presence node at /presence, with health endpoints; /readyz fails while presence is degraded. */
export function presenceNodeMounts(node: PresenceNode, ready: () => Promise<boolean>): Mount[] {
  return [
    { prefix: "/presence", handle: (req, server, ip) => node.endpoint.upgrade(req, server, ip) },
    ...healthMounts(async () => ({ stores: await ready().catch(() => false), presence: node.healthy })),
  ];
}
