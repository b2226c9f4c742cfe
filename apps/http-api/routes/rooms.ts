import { createRoute } from "@hono/zod-openapi";
import type { AccessPrincipal } from "../../../lib/auth/tokens.ts";
import { newDraft } from "../../../lib/chat/message.ts";
import { errorFields } from "../../../lib/log/index.ts";
import type { Room } from "../../../lib/store/types.ts";
import {
  type ApiApp,
  bearerSecurity,
  errorResponses,
  jsonBody,
  jsonContent,
  type RouteDeps,
  requireUser,
} from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { limitAction } from "../rate-limits.ts";
import {
  CreateRoomSchema,
  DiscoverQuery,
  MembersSchema,
  MyRoomsSchema,
  RoomDetailSchema,
  RoomIdParams,
  RoomResponseSchema,
  RoomsSchema,
} from "../schemas.ts";

const tags = ["rooms"];

/**
 * Unread counts stop here: a member back after a long absence sees "999+" rather than the server
 * counting every message it missed, so listing rooms costs O(rooms × (log N + cap)).
 */
export const UNREAD_COUNT_CAP = 1000;
const security = bearerSecurity;

export const roomRoutes = {
  create: createRoute({
    method: "post",
    path: "/api/rooms",
    tags,
    security,
    summary: "Create a room; the creator becomes its owner and first member",
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
    summary: "Rooms the caller is not a member of, newest first",
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
      "starts at that line, so earlier history is not counted as unread. 409 codes: room_full, already_member.",
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
    description: "Every STOMP node drops all live subscriptions to the room.",
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

/** The room or 404; with `member`, also 403 unless the user belongs to it. */
export async function loadRoom(d: RouteDeps, roomId: string, memberId?: string): Promise<Room> {
  const room = await d.stores.rooms.getRoom(roomId);
  if (!room) throw notFound("room");
  if (memberId !== undefined && !(await d.stores.rooms.isMember(roomId, memberId))) {
    throw new ApiError(403, "not_member", "you are not a member of this room");
  }
  return room;
}

export function registerRoomRoutes(app: ApiApp, d: RouteDeps): void {
  const auth = requireUser(d.tokens);
  const creating = limitAction(
    d.limits.actionByIp,
    d.limits.roomCreateByUser,
    "too many rooms created; retry later",
  );
  const acting = limitAction(
    d.limits.actionByIp,
    d.limits.roomActionByUser,
    "too many room actions; retry later",
  );
  const r = roomRoutes;

  /**
   * Membership first, then the join line: the cap check stays one atomic store operation, and a
   * refused join never leaves a stray "joined" line in the history. The membership starts at the
   * backlog's last seq (close to the present) and moves to the join line's seq once the bus has
   * stamped it. If the bus refuses the line, `undo` removes the membership so nobody is half-joined.
   */
  async function announceJoin(roomId: string, user: AccessPrincipal, undo: () => Promise<unknown>) {
    let seq: number;
    try {
      const line = await d.bus.publish(
        newDraft(roomId, "join", { id: user.userId, username: user.username }, `${user.username} joined`),
      );
      seq = line.seq;
    } catch (err) {
      await undo().catch((e) => d.log("error", "could not undo a join", { roomId, ...errorFields(e) }));
      throw err;
    }
    await d.stores.rooms.advanceReadPosition(roomId, user.userId, seq);
  }

  app.openapi({ ...r.create, middleware: [auth, creating] as const }, async (c) => {
    const { name, maxMembers } = c.req.valid("json");
    const user = c.var.user;
    const room = await d.stores.rooms.createRoom({ name, ownerId: user.userId, maxMembers });
    await announceJoin(room.id, user, () => d.stores.rooms.deleteRoom(room.id));
    return c.json({ room }, 201);
  });

  app.openapi({ ...r.mine, middleware: auth }, async (c) => {
    const userId = c.var.user.userId;
    const [rooms, positions] = await Promise.all([
      d.stores.rooms.listForMember(userId),
      d.stores.rooms.readPositions(userId),
    ]);
    const readPositions = new Map(rooms.map((room) => [room.id, positions.get(room.id) ?? 0]));
    const unread = await d.backlog.countsAfter(readPositions, UNREAD_COUNT_CAP);
    const mine = rooms.map((room) => {
      const unreadCount = unread.get(room.id) ?? 0;
      return {
        ...room,
        readPosition: readPositions.get(room.id) ?? 0,
        unreadCount,
        unreadCountCapped: unreadCount >= UNREAD_COUNT_CAP,
      };
    });
    return c.json({ rooms: mine }, 200);
  });

  app.openapi({ ...r.discover, middleware: auth }, async (c) => {
    const rooms = await d.stores.rooms.listDiscoverable(c.var.user.userId, c.req.valid("query"));
    return c.json({ rooms }, 200);
  });

  app.openapi({ ...r.get, middleware: auth }, async (c) => {
    const room = await loadRoom(d, c.req.valid("param").id);
    return c.json({ room, isMember: await d.stores.rooms.isMember(room.id, c.var.user.userId) }, 200);
  });

  app.openapi({ ...r.join, middleware: [auth, acting] as const }, async (c) => {
    const user = c.var.user;
    const room = await loadRoom(d, c.req.valid("param").id);
    const joined = await d.stores.rooms.join(room.id, user.userId, await d.backlog.lastSeq(room.id));
    await announceJoin(room.id, user, () => d.stores.rooms.leave(room.id, user.userId));
    return c.json({ room: joined }, 200);
  });

  /**
   * The store change comes first, so the caller is out even if the bus is down (503 then). The
   * control event makes every STOMP node drop the caller's live subscriptions to the room; the
   * leave line is what the other members see, and names the new owner when the owner left. The last
   * member leaving deletes the room, as DELETE would.
   */
  app.openapi({ ...r.leave, middleware: [auth, acting] as const }, async (c) => {
    const user = c.var.user;
    const room = await loadRoom(d, c.req.valid("param").id);
    const result = await d.stores.rooms.leave(room.id, user.userId);
    if (!result.left) throw new ApiError(403, "not_member", "you are not a member of this room");
    if (result.roomDeleted) {
      await d.bus.publishControl({ type: "room-deleted", roomId: room.id });
      return c.body(null, 204);
    }
    await d.bus.publishControl({ type: "member-removed", roomId: room.id, userId: user.userId });
    const heir = result.newOwnerId ? await d.stores.users.findById(result.newOwnerId) : null;
    const text = heir ? `${user.username} left; ${heir.username} is the owner now` : `${user.username} left`;
    await d.bus.publish(newDraft(room.id, "leave", { id: user.userId, username: user.username }, text));
    return c.body(null, 204);
  });

  app.openapi({ ...r.remove, middleware: [auth, acting] as const }, async (c) => {
    const room = await loadRoom(d, c.req.valid("param").id);
    if (room.ownerId !== c.var.user.userId) {
      throw new ApiError(403, "not_owner", "only the owner can delete this room");
    }
    await d.stores.rooms.deleteRoom(room.id);
    await d.bus.publishControl({ type: "room-deleted", roomId: room.id });
    return c.body(null, 204);
  });

  app.openapi({ ...r.members, middleware: auth }, async (c) => {
    const room = await loadRoom(d, c.req.valid("param").id, c.var.user.userId);
    return c.json({ members: await d.stores.rooms.members(room.id) }, 200);
  });
}
