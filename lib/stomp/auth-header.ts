import { StompError } from "./errors.ts";
import type { Headers } from "./frame.ts";
import type { Principal } from "./session.ts";

/** The bearer token from CONNECT: `Authorization: Bearer <jwt>` or the `passcode` header. */
export function connectToken(h: Headers): string | undefined {
  const auth = h.Authorization ?? h.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  return h.passcode || undefined;
}

/** CONNECT authentication shared by every STOMP app: the token must verify, or ERROR then close. */
export async function authenticateConnect(
  h: Headers,
  verifyToken: (token: string) => Promise<Principal>,
): Promise<Principal> {
  const token = connectToken(h);
  if (!token)
    throw new StompError("authentication required", "send Authorization: Bearer <token> or passcode");
  try {
    return await verifyToken(token);
  } catch (err) {
    throw new StompError("authentication failed", err instanceof Error ? err.message : "invalid token");
  }
}
