import type { UserStore } from "../store/types.ts";
import { AuthError } from "./errors.ts";

/** SHA-256 of the token, base64url: what the store keeps instead of the token itself. */
export function hashRefreshToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("base64url");
}

/** 32 random bytes, base64url (43 characters). */
export function newRefreshToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/**
 * Which client presents a refresh token: its address and User-Agent, hashed. Tabs of one browser
 * share it; a thief replaying a leaked token from elsewhere does not.
 */
export function refreshClientId(clientIp: string, userAgent: string | null | undefined): string {
  return new Bun.CryptoHasher("sha256")
    .update(`${clientIp}\n${userAgent ?? ""}`)
    .digest("base64url")
    .slice(0, 22);
}

/** How long a spent token may be presented again by the client that spent it. */
export const REFRESH_REUSE_GRACE_MS = 10_000;

export interface RefreshTokenService {
  /** A new token for the user, in the given family or a new one (a fresh login). */
  issue(userId: string, familyId?: string): Promise<string>;
  /**
   * Spends the token and returns its successor in the same family. A token presented a second time
   * means it leaked (or a client raced itself): the whole family is revoked, so whoever holds the
   * newest token must log in again — unless the same client (`clientId`) presents it again within
   * the grace window. That is two tabs or two requests refreshing at once, as browsers do after a
   * reload with an expired access token; they get a fresh token in the same family instead.
   */
  rotate(
    token: string,
    clientId?: string,
  ): Promise<{ userId: string; refreshToken: string; familyId: string }>;
  /** Logout: revokes the token's family and says whose it was; unknown tokens are ignored (null). */
  revoke(token: string): Promise<{ userId: string; familyId: string } | null>;
}

export function createRefreshTokens(opts: {
  users: UserStore;
  ttlSec: number;
  now?: () => number;
  /** Told when a family is revoked because a spent token came back (its sessions must end). */
  onReuse?: (userId: string, familyId: string) => Promise<void>;
  graceMs?: number;
}): RefreshTokenService {
  const now = opts.now ?? Date.now;
  const graceMs = opts.graceMs ?? REFRESH_REUSE_GRACE_MS;
  const { users } = opts;
  const spentBy = (by: string | null) => ({ at: new Date(now()).toISOString(), by });

  async function issue(userId: string, familyId: string = Bun.randomUUIDv7()): Promise<string> {
    const token = newRefreshToken();
    await users.saveRefreshToken({
      tokenHash: hashRefreshToken(token),
      familyId,
      userId,
      expiresAt: new Date(now() + opts.ttlSec * 1000).toISOString(),
    });
    return token;
  }

  return {
    issue,

    async rotate(token, clientId) {
      const record = await users.useRefreshToken(hashRefreshToken(token), spentBy(clientId ?? null));
      if (!record) throw new AuthError("invalid", "unknown refresh token");
      if (record.revokedAt) throw new AuthError("invalid", "the refresh token was revoked");
      if (record.usedAt) {
        const racing =
          clientId !== undefined &&
          record.usedBy === clientId &&
          now() - Date.parse(record.usedAt) <= graceMs;
        if (!racing) {
          await users.revokeRefreshFamily(record.familyId);
          await opts.onReuse?.(record.userId, record.familyId);
          throw new AuthError("invalid", "the refresh token was already used; log in again");
        }
      }
      if (Date.parse(record.expiresAt) <= now())
        throw new AuthError("expired", "the refresh token has expired");
      return {
        userId: record.userId,
        refreshToken: await issue(record.userId, record.familyId),
        familyId: record.familyId,
      };
    },

    async revoke(token) {
      const record = await users.useRefreshToken(hashRefreshToken(token), spentBy(null));
      if (!record) return null;
      await users.revokeRefreshFamily(record.familyId);
      return { userId: record.userId, familyId: record.familyId };
    },
  };
}
