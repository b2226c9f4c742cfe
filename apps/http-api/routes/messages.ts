import { createRoute } from "@hono/zod-openapi";
import {
  type ApiApp,
  bearerSecurity,
  errorResponses,
  jsonContent,
  type RouteDeps,
  requireUser,
} from "../context.ts";
import { MessagesQuery, MessagesSchema, RoomIdParams } from "../schemas.ts";
import { loadRoom } from "./rooms.ts";

export const messagesRoute = createRoute({
  method: "get",
  path: "/api/rooms/{id}/messages",
  tags: ["rooms"],
  security: bearerSecurity,
  summary: "A page of a room's history (members only)",
  description:
    "`?after=N` pages forward from seq N; `?before=N` pages backward; neither gives the newest messages. " +
    "Always oldest first; `limit` 1–100, default 50.",
  request: { params: RoomIdParams, query: MessagesQuery },
  responses: {
    200: jsonContent(MessagesSchema, "Messages, oldest first"),
    ...errorResponses(400, 401, 403, 404),
  },
});

export function registerMessageRoutes(app: ApiApp, d: RouteDeps): void {
  app.openapi({ ...messagesRoute, middleware: requireUser(d.tokens) }, async (c) => {
    const room = await loadRoom(d, c.req.valid("param").id, c.var.user.userId);
    const { after, before, limit } = c.req.valid("query");
    const messages =
      after !== undefined
        ? await d.backlog.after(room.id, after, limit)
        : await d.backlog.before(room.id, before ?? Number.MAX_SAFE_INTEGER, limit);
    return c.json({ messages }, 200);
  });
}
