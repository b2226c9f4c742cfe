import { z } from "@hono/zod-openapi";
import { ROOM_EVENT_TYPES } from "../../lib/chat/message.ts";
import { UserSchema } from "./schemas.ts";

/** Request and response shapes of rooms, members, messages, DMs, invites and people. */

const text = (max: number, what: string) =>
  z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .refine(
      (v) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v),
      `${what} must not contain control characters`,
    );
const roomName = text(100, "name")
  .refine((v) => v.length > 0, "must not be blank")
  .refine((v) => !/[\n\t]/.test(v), "name must not contain control characters");
const description = text(500, "description");
const maxMembers = z.number().int("must be a whole number").min(2).max(10_000);
const id = (what: string) => z.uuid(`must be a ${what} id (UUID)`);

export const RoomSchema = z
  .object({
    id: z.string(),
    name: z.string().openapi({ description: "Empty for DMs (show the peer's name)" }),
    description: z.string(),
    kind: z.enum(["group", "dm"]),
    private: z
      .boolean()
      .openapi({ description: "Not discoverable; joined by invite link only (DMs: never)" }),
    ownerId: z.string(),
    maxMembers: z.number().int(),
    memberCount: z.number().int(),
    createdAt: z.string(),
    dmUsers: z.array(z.string()).length(2).optional().openapi({ description: "DMs: the two users" }),
  })
  .openapi("Room");

export const MyRoomSchema = RoomSchema.extend({
  readPosition: z.number().int().openapi({ description: "Highest seq the caller has seen" }),
  unreadCount: z.number().int().openapi({
    description:
      "Other members' chat messages after the read position, not deleted (no join, leave or update lines, edits, deletes or own messages), counted up to 1000 (see unreadCountCapped)",
  }),
  unreadCountCapped: z
    .boolean()
    .openapi({ description: "True when the count stopped at its cap: there are unreadCount or more" }),
  lastSeq: z.number().int().openapi({ description: "The highest seq in the room (0 when empty)" }),
  peer: UserSchema.optional().openapi({ description: "DMs: the other user" }),
}).openapi("MyRoom");

export const RoomResponseSchema = z.object({ room: RoomSchema }).openapi("RoomResponse");
export const RoomDetailSchema = z.object({ room: RoomSchema, isMember: z.boolean() }).openapi("RoomDetail");
export const MyRoomsSchema = z.object({ rooms: z.array(MyRoomSchema) }).openapi("MyRooms");
export const RoomsSchema = z.object({ rooms: z.array(RoomSchema) }).openapi("Rooms");

export const CreateRoomSchema = z
  .object({
    name: roomName,
    description: description.optional(),
    maxMembers,
    private: z.boolean().optional().openapi({ description: "Joined by invite link only; default false" }),
  })
  .openapi("CreateRoom");

export const UpdateRoomSchema = z
  .object({
    name: roomName.optional(),
    description: description.optional(),
    maxMembers: maxMembers.optional(),
    private: z.boolean().optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "give at least one field to change")
  .openapi("UpdateRoom");

export const MemberSchema = z
  .object({ id: z.string(), username: z.string(), joinedAt: z.string() })
  .openapi("Member");
export const MembersSchema = z.object({ members: z.array(MemberSchema) }).openapi("Members");

export const BanSchema = z
  .object({ id: z.string(), username: z.string(), bannedAt: z.string() })
  .openapi("Ban");
export const BansSchema = z.object({ bans: z.array(BanSchema) }).openapi("Bans");
export const UserIdBody = z.object({ userId: id("user") }).openapi("UserIdBody");

export const ChatMessageSchema = z
  .object({
    id: z.string(),
    roomId: z.string(),
    seq: z.number().int(),
    type: z.enum(ROOM_EVENT_TYPES),
    sender: UserSchema,
    text: z.string().openapi({ description: 'Current text; "" for delete events and deleted messages' }),
    sentAt: z.string(),
    clientMsgId: z.string().optional(),
    editedAt: z.string().optional().openapi({ description: "message: last edited" }),
    deletedAt: z.string().optional().openapi({ description: "message: deleted (a tombstone, text gone)" }),
    target: z
      .object({ id: z.string(), seq: z.number().int() })
      .optional()
      .openapi({ description: "edit, delete: the message they change" }),
    changes: z
      .object({
        name: z.string().optional(),
        description: z.string().optional(),
        maxMembers: z.number().int().optional(),
        private: z.boolean().optional(),
        ownerId: z.string().optional(),
      })
      .optional()
      .openapi({ description: "update: what changed about the room" }),
    by: UserSchema.optional().openapi({ description: "leave: the owner who removed or banned the member" }),
    accountDeleted: z.boolean().optional(),
  })
  .openapi("ChatMessage");
export const MessagesSchema = z.object({ messages: z.array(ChatMessageSchema) }).openapi("Messages");
export const MessageResponseSchema = z.object({ message: ChatMessageSchema }).openapi("MessageResponse");

export const EditMessageSchema = z.object({ text: z.string() }).strict().openapi("EditMessage");

export const RoomIdParams = z.object({
  id: id("room").openapi({ param: { name: "id", in: "path" } }),
});
export const MemberParams = z.object({
  id: id("room").openapi({ param: { name: "id", in: "path" } }),
  userId: id("user").openapi({ param: { name: "userId", in: "path" } }),
});
export const MessageParams = z.object({
  id: id("room").openapi({ param: { name: "id", in: "path" } }),
  seq: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ type: "integer", minimum: 1, param: { name: "seq", in: "path" } }),
});

export const InviteRequestSchema = z
  .object({
    expiresInSec: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .optional()
      .openapi({ description: "Default 7 days" }),
  })
  .openapi("InviteRequest");
export const InviteSchema = z
  .object({
    token: z.string().openapi({ description: "Give it to the invitee; POST /api/invites/accept redeems it" }),
    expiresAt: z.string(),
  })
  .openapi("Invite");
export const AcceptInviteSchema = z.object({ token: z.string().min(1).max(256) }).openapi("AcceptInvite");

export const OpenDmSchema = z.object({ userId: id("user") }).openapi("OpenDm");
export const DmResponseSchema = z.object({ room: MyRoomSchema, created: z.boolean() }).openapi("DmResponse");

export const UserSearchQuery = z.object({
  prefix: z
    .string()
    .min(1)
    .max(64)
    .openapi({ description: "Start of a username (compared in normalised form)" }),
  after: z.string().max(64).optional().openapi({ description: "The `next` of the previous page" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(20)
    .openapi({ type: "integer", minimum: 1, maximum: 50, default: 20 }),
});
export const UsersPageSchema = z
  .object({
    users: z.array(UserSchema),
    next: z
      .string()
      .optional()
      .openapi({ description: "Pass as `after` for the next page; absent on the last" }),
  })
  .openapi("UsersPage");

export const DeleteAccountSchema = z
  .object({ password: z.string().min(1).max(1024).openapi({ description: "The account's password, again" }) })
  .openapi("DeleteAccount");

export const SettingsSchema = z
  .object({ readReceipts: z.boolean().openapi({ description: "Show others how far you have read" }) })
  .openapi("Settings");
export const UpdateSettingsSchema = z
  .object({ readReceipts: z.boolean().optional() })
  .strict()
  .openapi("UpdateSettings");

// Query values arrive as strings, so they are coerced; the metadata keeps the document precise.
const limit = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(fallback)
    .openapi({ type: "integer", minimum: 1, maximum: max, default: fallback });
const position = (description: string) =>
  z.coerce.number().int().min(0).optional().openapi({ type: "integer", minimum: 0, description });

export const DiscoverQuery = z.object({
  limit: limit(100, 50),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(0)
    .openapi({ type: "integer", minimum: 0, maximum: 1_000_000, default: 0 }),
});

export const MessagesQuery = z
  .object({
    after: position("Messages with seq > after, oldest first"),
    before: position("The newest messages with seq < before, oldest first"),
    limit: limit(100, 50),
  })
  .refine((q) => q.after === undefined || q.before === undefined, {
    message: "use either after or before, not both",
    path: ["before"],
  });
