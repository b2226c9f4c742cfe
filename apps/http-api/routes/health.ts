import { createRoute } from "@hono/zod-openapi";
import { type ApiApp, errorResponses, jsonContent, type RouteDeps } from "../context.ts";
import { ApiError } from "../errors.ts";
import { HealthSchema } from "../schemas.ts";

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "The process is up",
  responses: { 200: jsonContent(HealthSchema, "Up") },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["health"],
  summary: "The user/room store and the backlog answer",
  responses: { 200: jsonContent(HealthSchema, "Ready"), ...errorResponses(503) },
});

export function registerHealthRoutes(app: ApiApp, d: RouteDeps): void {
  app.openapi(healthz, (c) => c.json({ status: "ok" }, 200));

  app.openapi(readyz, async (c) => {
    const checks = await Promise.allSettled([d.stores.ping(), d.backlog.ping()]);
    const down = ["stores", "backlog"].filter((_, i) => checks[i]!.status === "rejected");
    if (down.length) {
      // Which backend is down is for an operator on the machine, not for the world.
      const what = c.env?.operator ? `not reachable: ${down.join(", ")}` : "a dependency is not reachable";
      throw new ApiError(503, "not_ready", what);
    }
    return c.json({ status: "ready" }, 200);
  });
}
