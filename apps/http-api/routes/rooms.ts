import { createRoute } from "@hono/zod-openapi";
import {
  CreateRoomSchema,
  DiscoverQuery,
  MembersSchema,
  MyRoomsSchema,
  RoomDetailSchema,
  RoomIdParams,
  RoomResponseSchema,
  RoomsSchema,
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

const tags = ["rooms"];
const security = bearerSecurity;

export const roomRoutes = {
  create: createRoute({
    method: "post",
    path: "/api/rooms",
    tags,
    security,
    summary: "Create a room; the creator becomes its owner and first member",
    description:
      "A private room is not discoverable and is joined by invite link only (POST /api/rooms/{id}/invites).",
    request: { body: jsonBody(CreateRoomSchema) },
    responses: {
      201: jsonContent(RoomResponseSchema, "The new room"),
      ...errorResponses(400, 401, 429, 503),
    },
  }),
  mine: createRoute({
    method: "get",
    path: "/api/rooms",
    tags,
    security,
    summary: "Rooms the caller is a member of, newest first, with read positions and unread counts",
    responses: { 200: jsonContent(MyRoomsSchema, "The caller's rooms"), ...errorResponses(401) },
  }),
  discover: createRoute({
    method: "get",
    path: "/api/rooms/discover",
    tags,
    security,
    summary: "Public rooms the caller is not a member of, newest first (never private rooms or DMs)",
    request: { query: DiscoverQuery },
    responses: {
      200: jsonContent(RoomsSchema, "Joinable rooms (full ones included)"),
      ...errorResponses(400, 401),
    },
  }),
  get: createRoute({
    method: "get",
    path: "/api/rooms/{id}",
    tags,
    security,
    summary: "One room",
    description: "Private rooms and DMs are 404 for anyone but their members.",
    request: { params: RoomIdParams },
    responses: { 200: jsonContent(RoomDetailSchema, "The room"), ...errorResponses(400, 401, 404) },
  }),
  join: createRoute({
    method: "post",
    path: "/api/rooms/{id}/join",
    tags,
    security,
    summary: "Join a room",
    description:
      "Atomic against maxMembers. Puts a `join` line into the room's stream; the new member's read position " +
      "starts at that line, so earlier history is not counted as unread. 409 codes: room_full, already_member; " +
      "403 banned; private rooms and DMs are 404 (private rooms are joined through POST /api/invites/accept).",
    request: { params: RoomIdParams },
    responses: {
      200: jsonContent(RoomResponseSchema, "The room after joining"),
      ...errorResponses(400, 401, 404, 409, 429, 503),
    },
  }),
  leave: createRoute({
    method: "post",
    path: "/api/rooms/{id}/leave",
    tags,
    security,
    summary: "Leave a room",
    description:
      "Puts a `leave` line into the room's stream and tells every STOMP node to drop the caller's live " +
      "subscriptions to the room. When the owner leaves, the longest-standing member becomes the owner " +
      "(the leave line says so); when the last member leaves, the room is deleted.",
    request: { params: RoomIdParams },
    responses: { 204: { description: "Left" }, ...errorResponses(400, 401, 403, 404, 429, 503) },
  }),
  remove: createRoute({
    method: "delete",
    path: "/api/rooms/{id}",
    tags,
    security,
    summary: "Delete a room (owner only)",
    description:
      "Every STOMP node drops all live subscriptions to the room. 403 dm_room for DMs (leave them).",
    request: { params: RoomIdParams },
    responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404, 429, 503) },
  }),
  members: createRoute({
    method: "get",
    path: "/api/rooms/{id}/members",
    tags,
    security,
    summary: "Members of a room (members only)",
    request: { params: RoomIdParams },
    responses: {
      200: jsonContent(MembersSchema, "Members, earliest first"),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
};

export function registerRoomRoutes(app: ApiApp, d: RouteDeps): void {
  const auth = requireUser(d.tokens);
  const { creating, acting } = routeLimits(d.limits);
  const r = roomRoutes;
  const { rooms } = d.chat;

  app.openapi({ ...r.create, middleware: [auth, creating] as const }, async (c) => {
    return c.json({ room: await rooms.create(c.var.user, c.req.valid("json")) }, 201);
  });

  app.openapi({ ...r.mine, middleware: auth }, async (c) => {
    return c.json({ rooms: await rooms.mine(c.var.user) }, 200);
  });

  app.openapi({ ...r.discover, middleware: auth }, async (c) => {
    return c.json({ rooms: await rooms.discover(c.var.user, c.req.valid("query")) }, 200);
  });

  app.openapi({ ...r.get, middleware: auth }, async (c) => {
    return c.json(await rooms.get(c.var.user, c.req.valid("param").id), 200);
  });

  app.openapi({ ...r.join, middleware: [auth, acting] as const }, async (c) => {
    return c.json({ room: await rooms.join(c.var.user, c.req.valid("param").id) }, 200);
  });

  app.openapi({ ...r.leave, middleware: [auth, acting] as const }, async (c) => {
    await rooms.leave(c.var.user, c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi({ ...r.remove, middleware: [auth, acting] as const }, async (c) => {
    await rooms.delete(c.var.user, c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi({ ...r.members, middleware: auth }, async (c) => {
    return c.json({ members: await rooms.members(c.var.user, c.req.valid("param").id) }, 200);
  });
}
