import { createRoute } from "@hono/zod-openapi";
import { MessagesQuery, MessagesSchema, RoomIdParams } from "../chat-schemas.ts";
import {
  type ApiApp,
  bearerSecurity,
  errorResponses,
  jsonContent,
  type RouteDeps,
  requireUser,
} from "../context.ts";

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
    const messages = await d.chat.messages.history(c.var.user, c.req.valid("param").id, c.req.valid("query"));
    return c.json({ messages }, 200);
  });
}
