import { isDirectLocal } from "./operator.ts";
import type { Mount } from "./serve.ts";

/**
 * /healthz (the process answers) and /readyz (its dependencies answer) for a load balancer or
 * orchestrator. `checks` returns named booleans; any false makes /readyz a 503. Which dependency is
 * down is told only to direct local requests (an operator on the machine), not to the world.
 */
export function healthMounts(checks: () => Promise<Record<string, boolean>>): Mount[] {
  return [
    { prefix: "/healthz", handle: () => Response.json({ status: "ok" }) },
    {
      prefix: "/readyz",
      handle: async (req, server) => {
        const results = await checks().catch(() => ({ checks: false }));
        const ok = Object.values(results).every(Boolean);
        const details = isDirectLocal(req, server) ? results : {};
        return Response.json(
          { status: ok ? "ready" : "unavailable", ...details },
          { status: ok ? 200 : 503 },
        );
      },
    },
  ];
}
