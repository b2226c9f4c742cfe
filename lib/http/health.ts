import type { Mount } from "./serve.ts";

/**
 * /healthz (the process answers) and /readyz (its dependencies answer) for a load balancer or
 * orchestrator. `checks` returns named booleans; any false makes /readyz a 503 that names it.
 */
export function healthMounts(checks: () => Promise<Record<string, boolean>>): Mount[] {
  return [
    { prefix: "/healthz", handle: () => Response.json({ status: "ok" }) },
    {
      prefix: "/readyz",
      handle: async () => {
        const results = await checks().catch(() => ({ checks: false }));
        const ok = Object.values(results).every(Boolean);
        return Response.json(
          { status: ok ? "ready" : "unavailable", ...results },
          { status: ok ? 200 : 503 },
        );
      },
    },
  ];
}
