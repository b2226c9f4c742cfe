import { createRoute } from "@hono/zod-openapi";
import { sessionsRevoked } from "../../../lib/chat/control.ts";
import {
  DeleteAccountSchema,
  DmResponseSchema,
  OpenDmSchema,
  SettingsSchema,
  UpdateSettingsSchema,
  UserSearchQuery,
  UsersPageSchema,
} from "../chat-schemas.ts";
import {
  type ApiApp,
  bearerSecurity,
  errorResponses,
  jsonBody,
  jsonContent,
  type RouteDeps,
  requireUser,
} from "../context.ts";
import { ApiError } from "../errors.ts";
import { limitLogin, routeLimits } from "../rate-limits.ts";
import { endSessions } from "../sessions.ts";

const security = bearerSecurity;

export const peopleRoutes = {
  deleteMe: createRoute({
    method: "delete",
    path: "/api/me",
    tags: ["auth"],
    security,
    summary: "Delete your account (with your password again)",
    description:
      "Every live STOMP session of the account ends at once, on every node (ERROR `session revoked`, close " +
      "4003). It leaves every room as a leave does (ownership passes to the longest-standing member; a room " +
      "it was the last member of is deleted), and its messages stay in the history attributed to " +
      '"deleted user". It can no longer log in or refresh, and its username stays reserved: nobody can ' +
      "register it to pass as them. 403 wrong_password; the attempts count against the login limit.",
    request: { body: jsonBody(DeleteAccountSchema) },
    responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 429, 503) },
  }),
  search: createRoute({
    method: "get",
    path: "/api/users",
    tags: ["people"],
    security,
    summary: "Find people by the start of their username",
    description:
      "Pages of at most `limit` (≤ 50) in code-point order of the normalised username; pass `next` as `after` " +
      "for the following page. Deleted accounts are not listed.",
    request: { query: UserSearchQuery },
    responses: { 200: jsonContent(UsersPageSchema, "A page of users"), ...errorResponses(400, 401) },
  }),
  openDm: createRoute({
    method: "post",
    path: "/api/dms",
    tags: ["people"],
    security,
    summary: "Open the direct-message room with a user",
    description:
      "Creates the one private room of the two users, or returns it (exactly one, also when both open it at " +
      "once); a caller who had left it is a member again. Never discoverable or joinable by anyone else. " +
      "201 when created, 200 when it existed. 404 user_not_found, 400 dm_self.",
    request: { body: jsonBody(OpenDmSchema) },
    responses: {
      200: jsonContent(DmResponseSchema, "The existing DM"),
      201: jsonContent(DmResponseSchema, "The new DM"),
      ...errorResponses(400, 401, 404, 429),
    },
  }),
  settings: createRoute({
    method: "get",
    path: "/api/me/settings",
    tags: ["auth"],
    security,
    summary: "The caller's settings",
    responses: { 200: jsonContent(SettingsSchema, "Settings"), ...errorResponses(401) },
  }),
  updateSettings: createRoute({
    method: "patch",
    path: "/api/me/settings",
    tags: ["auth"],
    security,
    summary: "Change the caller's settings",
    description: "readReceipts: false stops showing others how far you have read (from the next update on).",
    request: { body: jsonBody(UpdateSettingsSchema) },
    responses: {
      200: jsonContent(SettingsSchema, "Settings after the change"),
      ...errorResponses(400, 401, 429),
    },
  }),
};

export function registerPeopleRoutes(app: ApiApp, d: RouteDeps): void {
  const auth = requireUser(d.tokens);
  const { acting, openingDm } = routeLimits(d.limits);
  const r = peopleRoutes;

  app.openapi({ ...r.deleteMe, middleware: [auth, acting] as const }, async (c) => {
    const user = c.var.user;
    // Re-confirming a password is a login attempt: the login limits keep a stolen token from guessing it.
    await limitLogin(d.limits, user.username, c.env?.clientIp ?? "unknown");
    const account = await d.stores.users.findByUsername(user.username);
    if (!account || account.id !== user.userId) {
      throw new ApiError(401, "user_gone", "this account no longer exists");
    }
    if (!(await d.passwords.verify(c.req.valid("json").password, account.passwordHash))) {
      throw new ApiError(403, "wrong_password", "the password is not right");
    }
    await d.chat.users.deleteAccount(user);
    // The account is gone from the store first, so a node that misses the event still refuses a
    // reconnect at CONNECT.
    await endSessions(d, sessionsRevoked(user.userId, "account-deleted"));
    return c.body(null, 204);
  });

  app.openapi({ ...r.search, middleware: auth }, async (c) => {
    const { prefix, after, limit } = c.req.valid("query");
    const page = await d.chat.users.search(
      c.var.user,
      prefix,
      after === undefined ? { limit } : { after, limit },
    );
    return c.json(page, 200);
  });

  app.openapi({ ...r.openDm, middleware: [auth, openingDm] as const }, async (c) => {
    const opened = await d.chat.dms.open(c.var.user, c.req.valid("json").userId);
    return opened.created ? c.json(opened, 201) : c.json(opened, 200);
  });

  app.openapi({ ...r.settings, middleware: auth }, async (c) => {
    return c.json(await d.chat.users.settings(c.var.user), 200);
  });

  app.openapi({ ...r.updateSettings, middleware: [auth, acting] as const }, async (c) => {
    return c.json(await d.chat.users.updateSettings(c.var.user, c.req.valid("json")), 200);
  });
}
