import { createRoute } from "@hono/zod-openapi";
import { AuthError } from "../../../lib/auth/errors.ts";
import { REFRESH_REUSE_GRACE_MS, refreshClientId } from "../../../lib/auth/refresh.ts";
import { sessionsRevoked } from "../../../lib/chat/control.ts";
import { normalizeUsername } from "../../../lib/store/username.ts";
import {
  type ApiApp,
  bearerSecurity,
  errorResponses,
  jsonBody,
  jsonContent,
  type RouteDeps,
  requireUser,
} from "../context.ts";
import { ApiError, unauthorized } from "../errors.ts";
import { limitLogin, takeOrRefuse } from "../rate-limits.ts";
import {
  AuthResponseSchema,
  CredentialsSchema,
  MeSchema,
  RefreshRequestSchema,
  SignupSchema,
} from "../schemas.ts";
import { endSessions } from "../sessions.ts";

const signup = createRoute({
  method: "post",
  path: "/api/auth/signup",
  tags: ["auth"],
  summary: "Create an account and log in",
  description:
    "Usernames are NFKC-normalised, trimmed and lowercased; a name that looks like an existing one " +
    "(Unicode TR39 skeleton: other scripts' look-alike letters, accents) is refused with 409 " +
    "username_confusable. Passwords are 8 to 128 characters and must not be among the most common " +
    "passwords, a repetition or a simple run, or contain the username (400 names the reason). " +
    "Rate limited per client address; 429 carries Retry-After (seconds). 503 `busy` (with Retry-After) when " +
    "more password hashes are waiting than the server takes on.",
  request: { body: jsonBody(SignupSchema) },
  responses: {
    201: jsonContent(AuthResponseSchema, "Created; tokens for the new user"),
    ...errorResponses(400, 409, 429, 503),
  },
});

const login = createRoute({
  method: "post",
  path: "/api/auth/login",
  tags: ["auth"],
  summary: "Log in with username and password",
  description:
    "Rate limited per (username, client address) and per client address, with a slow username-wide backstop " +
    "that still lets each address try once per window; 429 carries Retry-After (seconds). 503 `busy` " +
    "(with Retry-After) when more password checks are waiting than the server takes on.",
  request: { body: jsonBody(CredentialsSchema) },
  responses: {
    200: jsonContent(AuthResponseSchema, "Tokens"),
    ...errorResponses(400, 401, 429, 503),
  },
});

const refresh = createRoute({
  method: "post",
  path: "/api/auth/refresh",
  tags: ["auth"],
  summary: "Exchange a refresh token for a new pair",
  description:
    "Each refresh token works once. Presenting a spent one revokes every token descended from the same login, " +
    `except when the client that spent it (same address and User-Agent) presents it again within ${REFRESH_REUSE_GRACE_MS / 1000} s: ` +
    "racing tabs or requests then get a fresh pair in the same family.",
  request: { body: jsonBody(RefreshRequestSchema) },
  responses: {
    200: jsonContent(AuthResponseSchema, "A new access and refresh token"),
    ...errorResponses(400, 401),
  },
});

const logout = createRoute({
  method: "post",
  path: "/api/auth/logout",
  tags: ["auth"],
  summary: "Revoke a refresh token and its whole family",
  description:
    "Idempotent: an unknown or already revoked token also answers 204. Access tokens expire on their own.",
  request: { body: jsonBody(RefreshRequestSchema) },
  responses: { 204: { description: "Logged out" }, ...errorResponses(400) },
});

const me = createRoute({
  method: "get",
  path: "/api/me",
  tags: ["auth"],
  summary: "The caller",
  security: bearerSecurity,
  responses: { 200: jsonContent(MeSchema, "The authenticated user"), ...errorResponses(401) },
});

export function registerAuthRoutes(app: ApiApp, d: RouteDeps): void {
  // The access token names its refresh-token family (a login): a logout ends that login's sessions.
  const grant = async (
    user: { id: string; username: string },
    next?: { refreshToken: string; familyId: string },
  ) => {
    const familyId = next?.familyId ?? Bun.randomUUIDv7();
    return {
      user: { id: user.id, username: user.username },
      accessToken: await d.tokens.issueAccessToken(user, familyId),
      refreshToken: next?.refreshToken ?? (await d.refresh.issue(user.id, familyId)),
      tokenType: "Bearer" as const,
      expiresIn: d.tokens.accessTtlSec,
    };
  };

  app.openapi(signup, async (c) => {
    const { username, password } = c.req.valid("json");
    // The hash's place first: a "come back later" (503 busy) must not cost the address a sign-up.
    const slot = d.passwords.reserve();
    try {
      await takeOrRefuse(
        [[d.limits.signupByIp, c.env?.clientIp ?? "unknown"]],
        "too many sign-ups from this address; retry later",
      );
      const user = await d.stores.users.createUser(username, await slot.hash(password));
      return c.json(await grant(user), 201);
    } finally {
      slot.release();
    }
  });

  app.openapi(login, async (c) => {
    const { username, password } = c.req.valid("json");
    const name = normalizeUsername(username);
    // The verify's place first: a "come back later" (503 busy) must not cost the user an attempt.
    const slot = d.passwords.reserve();
    try {
      await limitLogin(d.limits, name, c.env?.clientIp ?? "unknown");
      const user = await d.stores.users.findByUsername(name);
      if (!user) {
        await slot.verifyNothing(password);
      } else if (await slot.verify(password, user.passwordHash)) {
        return c.json(await grant(user), 200);
      }
      throw new ApiError(401, "invalid_credentials", "wrong username or password");
    } finally {
      slot.release();
    }
  });

  app.openapi(refresh, async (c) => {
    const { refreshToken } = c.req.valid("json");
    try {
      const client = refreshClientId(c.env?.clientIp ?? "unknown", c.req.header("user-agent"));
      const next = await d.refresh.rotate(refreshToken, client);
      const user = await d.stores.users.findById(next.userId);
      if (!user) throw new AuthError("invalid", "the user no longer exists");
      return c.json(await grant(user, next), 200);
    } catch (err) {
      if (err instanceof AuthError) throw unauthorized(err, "refresh_token");
      throw err;
    }
  });

  app.openapi(logout, async (c) => {
    const revoked = await d.refresh.revoke(c.req.valid("json").refreshToken);
    if (revoked) await endSessions(d, sessionsRevoked(revoked.userId, "logout", revoked.familyId));
    return c.body(null, 204);
  });

  app.openapi({ ...me, middleware: requireUser(d.tokens) }, async (c) => {
    const user = await d.stores.users.findById(c.var.user.userId);
    if (!user) throw unauthorized(new AuthError("invalid", "the user no longer exists"));
    return c.json({ user }, 200);
  });
}
