import { z } from "@hono/zod-openapi";
import { PASSWORD_MAX, PASSWORD_MIN } from "../../lib/auth/password.ts";
import { passwordProblem } from "../../lib/auth/password-policy.ts";
import { isValidUsername, normalizeUsername } from "../../lib/store/username.ts";

/** Request and response shapes of accounts and errors (rooms and messages: chat-schemas.ts): validation and the OpenAPI document both come from these. */

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

export const HealthSchema = z.object({ status: z.string() }).openapi("Health");
