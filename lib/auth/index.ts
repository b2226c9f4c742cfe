import type { Config } from "../config/index.ts";
import { createPasswordHasher, type PasswordHasher } from "./password.ts";
import { resolveJwtSecret } from "./secret.ts";
import { createTokenService, type TokenService } from "./tokens.ts";

export { bearerToken } from "./bearer.ts";
export { AuthError, type AuthErrorReason } from "./errors.ts";
export {
  createPasswordHasher,
  PASSWORD_MAX,
  PASSWORD_MIN,
  PasswordBusyError,
  type PasswordHasher,
  type PasswordSlot,
} from "./password.ts";
export {
  createRefreshTokens,
  hashRefreshToken,
  newRefreshToken,
  REFRESH_REUSE_GRACE_MS,
  type RefreshTokenService,
  refreshClientId,
} from "./refresh.ts";
export { resolveJwtSecret } from "./secret.ts";
export { type AccessPrincipal, createTokenService, type TokenService } from "./tokens.ts";

/** The token service every process of one installation builds the same way (http-api issues, ws-node verifies). */
export function tokenServiceFromConfig(config: Config): TokenService {
  return createTokenService({
    secret: resolveJwtSecret(config),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTtlSec: config.ACCESS_TOKEN_TTL_SEC,
  });
}

/** The hasher an installation's settings describe. */
export function passwordHasherFromConfig(config: Config): PasswordHasher {
  return createPasswordHasher({
    memoryCost: config.PASSWORD_MEMORY_KIB,
    timeCost: config.PASSWORD_TIME_COST,
    concurrency: config.PASSWORD_CONCURRENCY,
    queueLimit: config.PASSWORD_QUEUE_LIMIT,
  });
}
