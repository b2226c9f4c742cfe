import { RecencyMap } from "../collections/recency-map.ts";
import type { UserStore } from "../store/types.ts";
import { AuthError } from "./errors.ts";
import type { AccessPrincipal, TokenService } from "./tokens.ts";

/**
 * How STOMP endpoints check a CONNECT's token: its signature and expiry, then in the store that its
 * user still exists and its login (refresh-token family) was not revoked by a logout. The store's
 * answer is cached for `cacheMs`, per user and family, so a reconnect storm costs one query per
 * login; `forget(userId)` drops a user's answers when a revocation event arrives.
 */
export interface SessionVerifier {
  (token: string): Promise<AccessPrincipal>;
  forget(userId: string): void;
}

export interface SessionVerifierOptions {
  tokens: Pick<TokenService, "verifyAccessToken">;
  users: Pick<UserStore, "sessionActive">;
  /** How long a store answer is reused; default 5 000 ms. */
  cacheMs?: number;
  /** Users whose answers are kept at most; default 10 000 (the oldest are dropped). */
  maxUsers?: number;
  now?: () => number;
}

export function createSessionVerifier(o: SessionVerifierOptions): SessionVerifier {
  const cacheMs = o.cacheMs ?? 5_000;
  const maxUsers = o.maxUsers ?? 10_000;
  const now = o.now ?? Date.now;
  /**
   * By user (in order of caching: a RecencyMap, since finding a Map's oldest key after many deletes
   * costs more the more it holds), then by family ("" for tokens without one): whether active, and
   * until when known.
   */
  const cache = new RecencyMap<string, Map<string, { active: boolean; until: number }>>();

  async function active(userId: string, familyId: string | undefined): Promise<boolean> {
    const family = familyId ?? "";
    const known = cache.get(userId)?.get(family);
    if (known && known.until > now()) return known.active;
    const answer = await o.users.sessionActive(userId, familyId);
    let byFamily = cache.get(userId);
    if (!byFamily) {
      const oldest = cache.size >= maxUsers ? cache.leastRecent() : undefined;
      if (oldest) cache.delete(oldest[0]);
      byFamily = new Map();
      cache.set(userId, byFamily);
    }
    byFamily.set(family, { active: answer, until: now() + cacheMs });
    return answer;
  }

  const verify = async (token: string): Promise<AccessPrincipal> => {
    const principal = await o.tokens.verifyAccessToken(token);
    if (!(await active(principal.userId, principal.familyId))) {
      throw new AuthError(
        "invalid",
        "the session was ended (logged out, or the account is gone); log in again",
      );
    }
    return principal;
  };
  return Object.assign(verify, { forget: (userId: string) => void cache.delete(userId) });
}
