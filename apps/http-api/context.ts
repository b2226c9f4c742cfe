import type { OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { bearerToken } from "../../lib/auth/bearer.ts";
import { AuthError } from "../../lib/auth/errors.ts";
import type { PasswordHasher } from "../../lib/auth/password.ts";
import type { RefreshTokenService } from "../../lib/auth/refresh.ts";
import type { AccessPrincipal, TokenService } from "../../lib/auth/tokens.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import type { MessageBus } from "../../lib/bus/types.ts";
import type { Chat } from "../../lib/chat/index.ts";
import type { Config } from "../../lib/config/index.ts";
import type { Logger } from "../../lib/log/index.ts";
import type { Stores } from "../../lib/store/types.ts";
import { unauthorized } from "./errors.ts";
import type { ApiLimits } from "./rate-limits.ts";
import { ErrorSchema } from "./schemas.ts";

/**
 * `Bindings.clientIp` is how the server tells the app who is calling: the process entry point passes
 * `app.fetch(req, { clientIp })` with the address from lib/http/client-ip.ts (socket peer, or the
 * X-Forwarded-For hop when TRUST_PROXY), so the app itself never trusts a header.
 */
export interface ApiEnv {
  /** `operator`: a direct local request (lib/http/operator.ts), which may see operator details. */
  Bindings: { clientIp?: string; operator?: boolean };
  Variables: { user: AccessPrincipal };
}

export type ApiApp = OpenAPIHono<ApiEnv>;

/** Everything the routes use, resolved once in createHttpApi. */
export interface RouteDeps {
  config: Config;
  stores: Stores;
  bus: MessageBus;
  backlog: Backlog;
  /** The chat domain: every room, membership and message route is an adapter over it. */
  chat: Chat;
  tokens: TokenService;
  refresh: RefreshTokenService;
  passwords: PasswordHasher;
  limits: ApiLimits;
  log: Logger;
}

/** Requires a valid access token and puts its principal in `c.var.user`. */
export const requireUser = (tokens: TokenService) =>
  createMiddleware<{ Variables: { user: AccessPrincipal } }>(async (c, next) => {
    try {
      c.set("user", await tokens.verifyAccessToken(bearerToken(c.req.header("authorization"))));
    } catch (err) {
      if (err instanceof AuthError) throw unauthorized(err);
      throw err;
    }
    await next();
  });

const errorContent = { "application/json": { schema: ErrorSchema } };
const errorDescriptions: Record<number, string> = {
  400: "Validation failed; `error.fields` names each bad field",
  401: "Missing, expired or invalid token (codes token_missing, token_expired, token_invalid)",
  403: "Not allowed for the caller",
  404: "No such resource",
  409: "Conflict",
  429: "Rate limited; see Retry-After",
  503: "A backend is unavailable, or the server is too busy (`busy`, with Retry-After)",
};

/** OpenAPI response entries for the given error statuses, all with the Error schema. */
export function errorResponses<S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, { description: errorDescriptions[s] ?? "Error", content: errorContent }]),
  ) as Record<S, { description: string; content: typeof errorContent }>;
}

export const jsonBody = <T>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonContent = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const bearerSecurity = [{ bearerAuth: [] }];
