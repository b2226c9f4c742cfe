import { createMiddleware } from "hono/factory";
import type { AccessPrincipal } from "../../lib/auth/tokens.ts";
import type { Config } from "../../lib/config/index.ts";
import type { KeyedLimiter, MakeLimiter, RateLimit } from "../../lib/ratelimit/types.ts";
import { ApiError } from "./errors.ts";

/** A bucket from its settings: `burst` at once, then one more every `refillSec` seconds. */
export const bucket = (burst: number, refillSec: number): RateLimit => ({ ratePerSec: 1 / refillSec, burst });

/**
 * Every bucket the HTTP API keeps, made once from the settings. The limiters are the KeyedLimiter
 * port (Redis when configured), so a limit holds across http-api replicas.
 */
export interface ApiLimits {
  /** Login attempts per (username, address): what one address may try against one account. */
  loginByPair: KeyedLimiter;
  /** Login attempts per address, whatever the username (credential stuffing). */
  loginByIp: KeyedLimiter;
  /** Login attempts per username from anywhere: the slow backstop against many addresses. */
  loginByUsername: KeyedLimiter;
  /** While a username's backstop is empty: one attempt per (username, address) per window. */
  loginUnderAttack: KeyedLimiter;
  /** Sign-ups per client address: account creation is cheap to abuse and costs a password hash. */
  signupByIp: KeyedLimiter;
  /** Rooms created per user: each is a row, a stream and a line in everyone's Discover list. */
  roomCreateByUser: KeyedLimiter;
  /** Other state-changing actions (join, leave, delete, admin, edits, settings) per user. */
  roomActionByUser: KeyedLimiter;
  /** DMs opened per user: each may make a room and shows up in another user's list. */
  dmOpenByUser: KeyedLimiter;
  /** Invite links made per user. */
  inviteByUser: KeyedLimiter;
  /** Every state-changing authenticated request per client address, whoever's token it carries. */
  actionByIp: KeyedLimiter;
  /** Join and leave lines per (room, user): past it, membership changes without a line (the domain's). */
  membershipLines: KeyedLimiter;
}

export function apiLimits(make: MakeLimiter, c: Config): ApiLimits {
  return {
    loginByPair: make("login-pair", bucket(c.LOGIN_PAIR_BURST, c.LOGIN_PAIR_REFILL_SEC)),
    loginByIp: make("login-ip", bucket(c.LOGIN_IP_BURST, c.LOGIN_IP_REFILL_SEC)),
    loginByUsername: make("login-username", bucket(c.LOGIN_USERNAME_BURST, c.LOGIN_USERNAME_REFILL_SEC)),
    loginUnderAttack: make("login-under-attack", bucket(1, c.LOGIN_UNDER_ATTACK_REFILL_SEC)),
    signupByIp: make("signup-ip", bucket(c.SIGNUP_IP_BURST, c.SIGNUP_IP_REFILL_SEC)),
    roomCreateByUser: make("room-create-user", bucket(c.ROOM_CREATE_BURST, c.ROOM_CREATE_REFILL_SEC)),
    roomActionByUser: make("room-action-user", bucket(c.ROOM_ACTION_BURST, c.ROOM_ACTION_REFILL_SEC)),
    dmOpenByUser: make("dm-open-user", bucket(c.DM_OPEN_BURST, c.DM_OPEN_REFILL_SEC)),
    inviteByUser: make("invite-user", bucket(c.INVITE_BURST, c.INVITE_REFILL_SEC)),
    actionByIp: make("action-ip", bucket(c.ACTION_IP_BURST, c.ACTION_IP_REFILL_SEC)),
    membershipLines: make("membership-lines", bucket(c.MEMBERSHIP_LINE_BURST, c.MEMBERSHIP_LINE_REFILL_SEC)),
  };
}

/** Takes one token from each (limiter, key) in order; throws 429 with Retry-After at the first refusal. */
export async function takeOrRefuse(
  buckets: ReadonlyArray<readonly [KeyedLimiter, string]>,
  message: string,
): Promise<void> {
  for (const [limiter, key] of buckets) {
    const waitMs = await limiter.take(key);
    if (waitMs > 0) {
      throw new ApiError(429, "rate_limited", message, {
        retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)),
      });
    }
  }
}

const LOGIN_REFUSED = "too many login attempts; retry later";

/**
 * Login limits an attacker cannot turn against the account's owner. The address and the (username,
 * address) pair are limited first, so wrong passwords from one address lock out only that address.
 * Every attempt also draws on the username's bucket, a slow backstop against guessing from many
 * addresses: while it is empty, each address gets one attempt per LOGIN_UNDER_ATTACK_REFILL_SEC for
 * that username — the owner, from an address of their own, still gets in with the right password,
 * and a distributed guesser gets one try per address per window. Taken before the password is
 * checked, so no answer ever tells a right guess from a refused one.
 */
export async function limitLogin(l: ApiLimits, username: string, ip: string): Promise<void> {
  const pair = `${ip} ${username}`; // usernames never contain a space
  await takeOrRefuse(
    [
      [l.loginByIp, ip],
      [l.loginByPair, pair],
    ],
    LOGIN_REFUSED,
  );
  if ((await l.loginByUsername.take(username)) > 0) {
    await takeOrRefuse([[l.loginUnderAttack, pair]], LOGIN_REFUSED);
  }
}

/**
 * Middleware for a state-changing authenticated route (after requireUser): the caller's address
 * bucket, then the user's bucket for this kind of action.
 */
export const limitAction = (byIp: KeyedLimiter, byUser: KeyedLimiter, message: string) =>
  createMiddleware<{ Bindings: { clientIp?: string }; Variables: { user: AccessPrincipal } }>(
    async (c, next) => {
      await takeOrRefuse(
        [
          [byIp, c.env?.clientIp ?? "unknown"],
          [byUser, c.var.user.userId],
        ],
        message,
      );
      await next();
    },
  );

/** The limit middleware of each kind of state-changing route: the one place routes take them from. */
export function routeLimits(l: ApiLimits) {
  return {
    creating: limitAction(l.actionByIp, l.roomCreateByUser, "too many rooms created; retry later"),
    acting: limitAction(l.actionByIp, l.roomActionByUser, "too many room actions; retry later"),
    openingDm: limitAction(l.actionByIp, l.dmOpenByUser, "too many direct messages opened; retry later"),
    inviting: limitAction(l.actionByIp, l.inviteByUser, "too many invite links made; retry later"),
  };
}
