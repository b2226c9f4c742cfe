import { createRoute } from "@hono/zod-openapi";
import {
  BansSchema,
  MemberParams,
  RoomIdParams,
  RoomResponseSchema,
  UpdateRoomSchema,
  UserIdBody,
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

const tags = ["room admin"];
const security = bearerSecurity;
const ownerOnly = "Owner only (403 not_owner; 403 dm_room for DMs).";

export const roomAdminRoutes = {
  update: createRoute({
    method: "patch",
    path: "/api/rooms/{id}",
    tags,
    security,
    summary: "Rename, describe, cap or make private/public",
    description:
      `${ownerOnly} maxMembers is never set below the member count (409 below_member_count), exactly, ` +
      "also against concurrent joins. Puts an `update` line into the room's stream naming what changed.",
    request: { params: RoomIdParams, body: jsonBody(UpdateRoomSchema) },
    responses: {
      200: jsonContent(RoomResponseSchema, "The room after the change"),
      ...errorResponses(400, 401, 403, 404, 409, 429, 503),
    },
  }),
  removeMember: createRoute({
    method: "delete",
    path: "/api/rooms/{id}/members/{userId}",
    tags,
    security,
    summary: "Remove a member",
    description:
      `${ownerOnly} Their live subscriptions to the room end at once on every node; a \`leave\` line ` +
      "(with `by`) tells the room. They may join again (ban them to prevent that).",
    request: { params: MemberParams },
    responses: { 204: { description: "Removed" }, ...errorResponses(400, 401, 403, 404, 429, 503) },
  }),
  ban: createRoute({
    method: "post",
    path: "/api/rooms/{id}/bans",
    tags,
    security,
    summary: "Ban a user: removed if a member, and kept from joining again",
    description: ownerOnly,
    request: { params: RoomIdParams, body: jsonBody(UserIdBody) },
    responses: { 204: { description: "Banned" }, ...errorResponses(400, 401, 403, 404, 429, 503) },
  }),
  unban: createRoute({
    method: "delete",
    path: "/api/rooms/{id}/bans/{userId}",
    tags,
    security,
    summary: "Lift a ban",
    description: ownerOnly,
    request: { params: MemberParams },
    responses: { 204: { description: "Lifted" }, ...errorResponses(400, 401, 403, 404, 429) },
  }),
  bans: createRoute({
    method: "get",
    path: "/api/rooms/{id}/bans",
    tags,
    security,
    summary: "Banned users, earliest first",
    description: ownerOnly,
    request: { params: RoomIdParams },
    responses: { 200: jsonContent(BansSchema, "The bans"), ...errorResponses(400, 401, 403, 404) },
  }),
  transfer: createRoute({
    method: "post",
    path: "/api/rooms/{id}/owner",
    tags,
    security,
    summary: "Hand the room to another member",
    description: `${ownerOnly} The new owner must be a member (403 not_member). An \`update\` line names them.`,
    request: { params: RoomIdParams, body: jsonBody(UserIdBody) },
    responses: {
      200: jsonContent(RoomResponseSchema, "The room with its new owner"),
      ...errorResponses(400, 401, 403, 404, 429, 503),
    },
  }),
};

export function registerRoomAdminRoutes(app: ApiApp, d: RouteDeps): void {
  const auth = requireUser(d.tokens);
  const { acting } = routeLimits(d.limits);
  const r = roomAdminRoutes;
  const { admin } = d.chat;

  app.openapi({ ...r.update, middleware: [auth, acting] as const }, async (c) => {
    return c.json(
      { room: await admin.update(c.var.user, c.req.valid("param").id, c.req.valid("json")) },
      200,
    );
  });

  app.openapi({ ...r.removeMember, middleware: [auth, acting] as const }, async (c) => {
    const { id, userId } = c.req.valid("param");
    await admin.remove(c.var.user, id, userId, { ban: false });
    return c.body(null, 204);
  });

  app.openapi({ ...r.ban, middleware: [auth, acting] as const }, async (c) => {
    await admin.remove(c.var.user, c.req.valid("param").id, c.req.valid("json").userId, { ban: true });
    return c.body(null, 204);
  });

  app.openapi({ ...r.unban, middleware: [auth, acting] as const }, async (c) => {
    const { id, userId } = c.req.valid("param");
    await admin.unban(c.var.user, id, userId);
    return c.body(null, 204);
  });

  app.openapi({ ...r.bans, middleware: auth }, async (c) => {
    return c.json({ bans: await admin.bans(c.var.user, c.req.valid("param").id) }, 200);
  });

  app.openapi({ ...r.transfer, middleware: [auth, acting] as const }, async (c) => {
    const room = await admin.transfer(c.var.user, c.req.valid("param").id, c.req.valid("json").userId);
    return c.json({ room }, 200);
  });
}
