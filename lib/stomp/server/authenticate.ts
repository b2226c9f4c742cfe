import { bearerToken } from "../../auth/bearer.ts";
import type { Headers } from "../codec/frame.ts";
import type { Principal } from "./app.ts";
import { StompError } from "./errors.ts";

/**
 * Who a token names; rejects when it is missing, expired, invalid or its session was ended. `forget`,
 * when present, drops what it has cached about a user (called on a revocation event).
 */
export type VerifyToken = ((token: string) => Promise<Principal>) & { forget?(userId: string): void };

/** The bearer token from CONNECT: `Authorization: Bearer <jwt>` or the `passcode` header. */
export function connectToken(h: Headers): string | undefined {
  return bearerToken(h.Authorization ?? h.authorization) ?? (h.passcode || undefined);
}

/** CONNECT authentication for every STOMP endpoint: the token must verify, or ERROR then close. */
export async function authenticateConnect(h: Headers, verifyToken: VerifyToken): Promise<Principal> {
  const token = connectToken(h);
  if (!token)
    throw new StompError("authentication required", "send Authorization: Bearer <token> or passcode");
  try {
    return await verifyToken(token);
  } catch (err) {
    throw new StompError("authentication failed", err instanceof Error ? err.message : "invalid token");
  }
}
