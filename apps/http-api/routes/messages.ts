import { createRoute } from "@hono/zod-openapi";
import {
  EditMessageSchema,
  MessageParams,
  MessageResponseSchema,
  MessagesQuery,
  MessagesSchema,
  RoomIdParams,
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

export const editMessageRoute = createRoute({
  method: "patch",
  path: "/api/rooms/{id}/messages/{seq}",
  tags: ["rooms"],
  security: bearerSecurity,
  summary: "Edit your message",
  description:
    "Only the sender edits. Puts an `edit` line (with `target: {id, seq}`) into the room's log: members get " +
    "it live and in replay, and history shows the message with the new text and `editedAt`. " +
    "403 not_sender; 404 message_not_found or message_deleted; 400 not_a_message for join/leave/update lines.",
  request: { params: MessageParams, body: jsonBody(EditMessageSchema) },
  responses: {
    200: jsonContent(MessageResponseSchema, "The edit line, with its seq"),
    ...errorResponses(400, 401, 403, 404, 429, 503),
  },
});

export const deleteMessageRoute = createRoute({
  method: "delete",
  path: "/api/rooms/{id}/messages/{seq}",
  tags: ["rooms"],
  security: bearerSecurity,
  summary: "Delete a message (the sender, or the room's owner; in DMs only the sender)",
  description:
    "Puts a `delete` line (with `target: {id, seq}`) into the room's log; history keeps a tombstone " +
    '(`text` "", `deletedAt`) and the text of the message and of its edits is gone from the backlog.',
  request: { params: MessageParams },
  responses: {
    200: jsonContent(MessageResponseSchema, "The delete line, with its seq"),
    ...errorResponses(400, 401, 403, 404, 429, 503),
  },
});

export function registerMessageRoutes(app: ApiApp, d: RouteDeps): void {
  const auth = requireUser(d.tokens);
  const { acting } = routeLimits(d.limits);
  app.openapi({ ...messagesRoute, middleware: auth }, async (c) => {
    const messages = await d.chat.messages.history(c.var.user, c.req.valid("param").id, c.req.valid("query"));
    return c.json({ messages }, 200);
  });
  app.openapi({ ...editMessageRoute, middleware: [auth, acting] as const }, async (c) => {
    const { id, seq } = c.req.valid("param");
    const message = await d.chat.messages.edit(c.var.user, id, seq, c.req.valid("json"));
    return c.json({ message }, 200);
  });
  app.openapi({ ...deleteMessageRoute, middleware: [auth, acting] as const }, async (c) => {
    const { id, seq } = c.req.valid("param");
    const message = await d.chat.messages.delete(c.var.user, id, seq);
    return c.json({ message }, 200);
  });
}
