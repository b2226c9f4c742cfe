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

export interface RefreshTokenService {
  /** A new token for the user, in the given family or a new one (a fresh login). */
  issue(userId: string, familyId?: string): Promise<string>;
  /**
   * Spends the token and returns its successor in the same family. A token presented a second time
   * means it leaked (or a client raced itself): the whole family is revoked, so whoever holds the
   * newest token must log in again.
   */
  rotate(token: string): Promise<{ userId: string; refreshToken: string; familyId: string }>;
  /** Logout: revokes the token's family and says whose it was; unknown tokens are ignored (null). */
  revoke(token: string): Promise<{ userId: string; familyId: string } | null>;
}

export function createRefreshTokens(opts: {
  users: UserStore;
  ttlSec: number;
  now?: () => number;
  /** Told when a family is revoked because a spent token came back (its sessions must end). */
  onReuse?: (userId: string, familyId: string) => Promise<void>;
}): RefreshTokenService {
  const now = opts.now ?? Date.now;
  const { users } = opts;

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

    async rotate(token) {
      const record = await users.useRefreshToken(hashRefreshToken(token));
      if (!record) throw new AuthError("invalid", "unknown refresh token");
      if (record.revokedAt) throw new AuthError("invalid", "the refresh token was revoked");
      if (record.usedAt) {
        await users.revokeRefreshFamily(record.familyId);
        await opts.onReuse?.(record.userId, record.familyId);
        throw new AuthError("invalid", "the refresh token was already used; log in again");
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
      const record = await users.useRefreshToken(hashRefreshToken(token));
      if (!record) return null;
      await users.revokeRefreshFamily(record.familyId);
      return { userId: record.userId, familyId: record.familyId };
    },
  };
}
