import type { Headers } from "./frame.ts";

/** The bearer token from CONNECT: `Authorization: Bearer <jwt>` or the `passcode` header. */
export function connectToken(h: Headers): string | undefined {
  const auth = h.Authorization ?? h.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  return h.passcode || undefined;
}
