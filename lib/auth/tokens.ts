import { errors, jwtVerify, SignJWT } from "jose";
import { AuthError } from "./errors.ts";

export interface TokenServiceOptions {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  accessTtlSec: number;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now?: () => number;
}

export interface AccessPrincipal {
  userId: string;
  username: string;
  /** The token's expiry, ms since the epoch. */
  expiresAt?: number;
  /** The refresh-token family (the login) the token was issued for, when it was. */
  familyId?: string;
}

export interface TokenService {
  readonly accessTtlSec: number;
  /** `familyId`: the login (refresh-token family) it belongs to, so a logout can end its sessions. */
  issueAccessToken(user: { id: string; username: string }, familyId?: string): Promise<string>;
  /** Resolves with who the token names, or throws AuthError (missing, expired, invalid). */
  verifyAccessToken(token: string | null | undefined): Promise<AccessPrincipal>;
}

const ALGORITHM = "HS256";

/**
 * Short-lived HS256 access tokens. Verification accepts HS256 only, so `alg: none` and any other
 * algorithm are refused before the signature is even considered.
 */
export function createTokenService(opts: TokenServiceOptions): TokenService {
  const now = opts.now ?? Date.now;
  return {
    accessTtlSec: opts.accessTtlSec,

    async issueAccessToken(user, familyId) {
      const iat = Math.floor(now() / 1000);
      return new SignJWT(
        familyId === undefined ? { username: user.username } : { username: user.username, fam: familyId },
      )
        .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
        .setIssuer(opts.issuer)
        .setAudience(opts.audience)
        .setSubject(user.id)
        .setIssuedAt(iat)
        .setExpirationTime(iat + opts.accessTtlSec)
        .setJti(Bun.randomUUIDv7())
        .sign(opts.secret);
    },

    async verifyAccessToken(token) {
      if (!token) throw new AuthError("missing", "an access token is required");
      try {
        const { payload } = await jwtVerify(token, opts.secret, {
          algorithms: [ALGORITHM],
          issuer: opts.issuer,
          audience: opts.audience,
          requiredClaims: ["exp", "iat", "sub"],
          currentDate: new Date(now()),
        });
        if (typeof payload.sub !== "string" || typeof payload.username !== "string") {
          throw new AuthError("invalid", "the access token lacks its subject or username");
        }
        const principal: AccessPrincipal = {
          userId: payload.sub,
          username: payload.username,
          expiresAt: (payload.exp as number) * 1000,
        };
        if (typeof payload.fam === "string") principal.familyId = payload.fam;
        return principal;
      } catch (err) {
        if (err instanceof AuthError) throw err;
        if (err instanceof errors.JWTExpired) throw new AuthError("expired", "the access token has expired");
        throw new AuthError("invalid", "the access token is not valid");
      }
    },
  };
}
