import { createRoute } from "@hono/zod-openapi";
import {
  AcceptInviteSchema,
  InviteRequestSchema,
  InviteSchema,
  RoomIdParams,
  RoomResponseSchema,
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
import { routeLimits } from "../rate-limits.ts";

const tags = ["invites"];
const security = bearerSecurity;

export const inviteRoutes = {
  create: createRoute({
    method: "post",
    path: "/api/rooms/{id}/invites",
    tags,
    security,
    summary: "Make an invite link (owner only)",
    description:
      "A signed token naming the room, valid until expiresAt (default 7 days, 60 s to 30 days) or until the " +
      "owner revokes invites. The only way into a private room.",
    request: { params: RoomIdParams, body: jsonBody(InviteRequestSchema) },
    responses: { 201: jsonContent(InviteSchema, "The invite"), ...errorResponses(400, 401, 403, 404, 429) },
  }),
  revoke: createRoute({
    method: "delete",
    path: "/api/rooms/{id}/invites",
    tags,
    security,
    summary: "Revoke every invite link made so far (owner only)",
    request: { params: RoomIdParams },
    responses: { 204: { description: "Revoked" }, ...errorResponses(400, 401, 403, 404, 429) },
  }),
  accept: createRoute({
    method: "post",
    path: "/api/invites/accept",
    tags,
    security,
    summary: "Join the room an invite link names",
    description:
      "Like a join (atomic against maxMembers; a `join` line). 400 invite_invalid (malformed or forged), " +
      "403 invite_expired, invite_revoked, banned; 409 room_full, already_member.",
    request: { body: jsonBody(AcceptInviteSchema) },
    responses: {
      200: jsonContent(RoomResponseSchema, "The room joined"),
      ...errorResponses(400, 401, 403, 404, 409, 429, 503),
    },
  }),
};

export function registerInviteRoutes(app: ApiApp, d: RouteDeps): void {
  const auth = requireUser(d.tokens);
  const { acting, inviting } = routeLimits(d.limits);
  const r = inviteRoutes;

  app.openapi({ ...r.create, middleware: [auth, inviting] as const }, async (c) => {
    const { expiresInSec } = c.req.valid("json");
    return c.json(await d.chat.admin.invite(c.var.user, c.req.valid("param").id, expiresInSec), 201);
  });

  app.openapi({ ...r.revoke, middleware: [auth, acting] as const }, async (c) => {
    await d.chat.admin.revokeInvites(c.var.user, c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi({ ...r.accept, middleware: [auth, acting] as const }, async (c) => {
    return c.json({ room: await d.chat.rooms.joinByInvite(c.var.user, c.req.valid("json").token) }, 200);
  });
}
