import { z } from "@hono/zod-openapi";
import { PASSWORD_MAX, PASSWORD_MIN } from "../../lib/auth/password.ts";
import { passwordProblem } from "../../lib/auth/password-policy.ts";
import { isValidUsername, normalizeUsername } from "../../lib/store/username.ts";

/** Request and response shapes: validation and the OpenAPI document both come from these. */

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "room_full" }),
      message: z.string(),
      fields: z
        .record(z.string(), z.string())
        .optional()
        .openapi({ description: "Per-field reasons (400 only)" }),
    }),
  })
  .openapi("Error");

export const UsernameSchema = z
  .string()
  .max(64)
  .refine(
    (v) => isValidUsername(normalizeUsername(v)),
    "3 to 32 letters, digits, '_', '.' or '-' (compared case-insensitively)",
  )
  .openapi({ example: "alice" });

export const PasswordSchema = z
  .string()
  .min(PASSWORD_MIN, `at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `at most ${PASSWORD_MAX} characters`)
  .openapi({ example: "correct horse battery" });

export const CredentialsSchema = z
  .object({ username: UsernameSchema, password: PasswordSchema })
  .openapi("Credentials");

/**
 * A sign-up: the password must also pass the policy (not among the most common, not a repetition or
 * a simple run, not containing the username). Login takes any password, so old accounts still work.
 */
export const SignupSchema = CredentialsSchema.superRefine(({ username, password }, ctx) => {
  const problem = passwordProblem(password, normalizeUsername(username));
  if (problem) ctx.addIssue({ code: "custom", path: ["password"], message: problem });
}).openapi("Signup", {
  description:
    "password: 8 to 128 characters, not one of the most common passwords, not a repetition of a few " +
    "characters or a simple run (12345678), not containing the username",
});

export const RefreshRequestSchema = z
  .object({ refreshToken: z.string().min(1).max(256) })
  .openapi("RefreshRequest");

export const UserSchema = z.object({ id: z.string(), username: z.string() }).openapi("User");

export const MeSchema = z
  .object({ user: z.object({ id: z.string(), username: z.string(), createdAt: z.string() }) })
  .openapi("Me");

export const AuthResponseSchema = z
  .object({
    user: UserSchema,
    accessToken: z.string().openapi({ description: "HS256 JWT; send as `Authorization: Bearer <token>`" }),
    refreshToken: z.string().openapi({ description: "Opaque; single use, rotates on every refresh" }),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ description: "Access token lifetime in seconds" }),
  })
  .openapi("AuthResponse");

export const RoomSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    ownerId: z.string(),
    maxMembers: z.number().int(),
    memberCount: z.number().int(),
    createdAt: z.string(),
  })
  .openapi("Room");

export const MyRoomSchema = RoomSchema.extend({
  readPosition: z.number().int().openapi({ description: "Highest seq the caller has seen" }),
  unreadCount: z
    .number()
    .int()
    .openapi({ description: "Messages after the read position, counted up to 1000 (see unreadCountCapped)" }),
  unreadCountCapped: z
    .boolean()
    .openapi({ description: "True when the count stopped at its cap: there are unreadCount or more" }),
}).openapi("MyRoom");

export const RoomResponseSchema = z.object({ room: RoomSchema }).openapi("RoomResponse");
export const RoomDetailSchema = z.object({ room: RoomSchema, isMember: z.boolean() }).openapi("RoomDetail");
export const MyRoomsSchema = z.object({ rooms: z.array(MyRoomSchema) }).openapi("MyRooms");
export const RoomsSchema = z.object({ rooms: z.array(RoomSchema) }).openapi("Rooms");

export const CreateRoomSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, "must not be blank")
      .max(100, "at most 100 characters")
      .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), "must not contain control characters"),
    maxMembers: z.number().int("must be a whole number").min(2).max(10_000),
  })
  .openapi("CreateRoom");

export const MemberSchema = z
  .object({ id: z.string(), username: z.string(), joinedAt: z.string() })
  .openapi("Member");
export const MembersSchema = z.object({ members: z.array(MemberSchema) }).openapi("Members");

export const ChatMessageSchema = z
  .object({
    id: z.string(),
    roomId: z.string(),
    seq: z.number().int(),
    type: z.enum(["message", "join", "leave"]),
    sender: UserSchema,
    text: z.string(),
    sentAt: z.string(),
  })
  .openapi("ChatMessage");
export const MessagesSchema = z.object({ messages: z.array(ChatMessageSchema) }).openapi("Messages");

export const RoomIdParams = z.object({
  id: z.uuid("must be a room id (UUID)").openapi({ param: { name: "id", in: "path" } }),
});

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

export const HealthSchema = z.object({ status: z.string() }).openapi("Health");
