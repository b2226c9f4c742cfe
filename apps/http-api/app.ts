import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { passwordHasherFromConfig, resolveJwtSecret } from "../../lib/auth/index.ts";
import type { PasswordHasher } from "../../lib/auth/password.ts";
import { createRefreshTokens } from "../../lib/auth/refresh.ts";
import type { TokenService } from "../../lib/auth/tokens.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import type { MessageBus } from "../../lib/bus/types.ts";
import { sessionsRevoked } from "../../lib/chat/control.ts";
import { createChat } from "../../lib/chat/index.ts";
import type { Config } from "../../lib/config/index.ts";
import { type Logger, silentLogger } from "../../lib/log/index.ts";
import type { MakeLimiter } from "../../lib/ratelimit/types.ts";
import type { Stores } from "../../lib/store/types.ts";
import type { ApiApp, ApiEnv, RouteDeps } from "./context.ts";
import { docsCsp, docsHtml } from "./docs-page.ts";
import { ApiError, errorResponse, renderError, validationError } from "./errors.ts";
import { apiLimits } from "./rate-limits.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerInviteRoutes } from "./routes/invites.ts";
import { registerMessageRoutes } from "./routes/messages.ts";
import { registerPeopleRoutes } from "./routes/people.ts";
import { registerRoomAdminRoutes } from "./routes/room-admin.ts";
import { registerRoomRoutes } from "./routes/rooms.ts";
import { endSessions } from "./sessions.ts";

export type { ApiEnv } from "./context.ts";

export interface HttpApiDeps {
  config: Config;
  stores: Stores;
  bus: MessageBus;
  backlog: Backlog;
  tokens: TokenService;
  log?: Logger;
  /** argon2id at the configured cost by default; tests pass a cheaper cost. */
  passwords?: PasswordHasher;
  /** Where the rate-limit buckets live: backends.limiters (Redis when configured). */
  limiters: MakeLimiter;
  /** Milliseconds since the epoch, for refresh-token expiry; tests move it. */
  now?: () => number;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The HTTP API: auth, rooms, membership and history under /api, plus /healthz and /readyz. The
 * caller's address arrives as `app.fetch(req, { clientIp })` (see ApiEnv), used for per-IP limits.
 */
export function createHttpApi(deps: HttpApiDeps): ApiApp {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? Date.now;
  const limits = apiLimits(deps.limiters, deps.config);
  const d: RouteDeps = {
    config: deps.config,
    stores: deps.stores,
    bus: deps.bus,
    backlog: deps.backlog,
    chat: createChat(
      {
        users: deps.stores.users,
        rooms: deps.stores.rooms,
        bus: deps.bus,
        backlog: deps.backlog,
        membershipLines: limits.membershipLines,
        log,
      },
      { maxMessageChars: deps.config.MESSAGE_MAX_CHARS, inviteSecret: resolveJwtSecret(deps.config), now },
    ),
    tokens: deps.tokens,
    log,
    passwords: deps.passwords ?? passwordHasherFromConfig(deps.config),
    refresh: createRefreshTokens({
      users: deps.stores.users,
      ttlSec: deps.config.REFRESH_TOKEN_TTL_SEC,
      now,
      onReuse: (userId, familyId) =>
        endSessions({ bus: deps.bus, log }, sessionsRevoked(userId, "token-reuse", familyId)),
    }),
    limits,
  };

  const app: ApiApp = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return errorResponse(c, validationError(result.error, result.target));
    },
  });
  app.onError((err, c) => renderError(err, c, log));
  app.notFound((c) => {
    // A path that exists under other methods: 405 with Allow, not 404.
    const allow = methodsFor(app, c.req.path, false);
    if (allow.length > 0) return errorResponse(c, methodNotAllowed(c.req.method, allow));
    return errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`));
  });
  // A literal path (/api/rooms/discover) is not an id for another method's /api/rooms/{id}.
  app.use("/api/*", async (c, next) => {
    const allow = methodsFor(app, c.req.path, true);
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      return errorResponse(c, methodNotAllowed(c.req.method, allow));
    }
    await next();
  });
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        errorResponse(
          c,
          new ApiError(413, "payload_too_large", `bodies are limited to ${MAX_BODY_BYTES} bytes`),
        ),
    }),
  );

  registerHealthRoutes(app, d);
  registerAuthRoutes(app, d);
  registerRoomRoutes(app, d);
  registerRoomAdminRoutes(app, d);
  registerInviteRoutes(app, d);
  registerMessageRoutes(app, d);
  registerPeopleRoutes(app, d);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "ChatTalk",
      version: "0.1.0",
      description:
        "Accounts, rooms and membership. Errors are always `{error: {code, message, fields?}}`. Live messages " +
        "travel over STOMP at /ws with the same access token.",
    },
  });
  app.get("/api/docs", (c) => {
    c.header("Content-Security-Policy", docsCsp);
    return c.html(docsHtml);
  });
  return app;
}

function methodNotAllowed(method: string, allow: string[]): ApiError {
  return new ApiError(405, "method_not_allowed", `${method} is not allowed here; use ${allow.join(", ")}`, {
    headers: { Allow: allow.join(", ") },
  });
}

/**
 * The methods the app's routes answer at `path`: ":id"-style segments match any one segment, or,
 * with `literalOnly`, only routes without parameters count.
 */
function methodsFor(app: ApiApp, path: string, literalOnly: boolean): string[] {
  const methods = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path.includes("*")) continue;
    if (literalOnly && r.path.includes(":")) continue;
    const pattern = new RegExp(
      `^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")}$`,
    );
    if (pattern.test(path)) methods.add(r.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}
