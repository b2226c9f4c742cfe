import { describe, expect, test } from "bun:test";
import { createSqliteStores } from "../store/sqlite/index.ts";
import { AuthError } from "./errors.ts";
import { createRefreshTokens, hashRefreshToken } from "./refresh.ts";

async function setup() {
  const stores = createSqliteStores(":memory:");
  const user = await stores.users.createUser("refresher", "h");
  let clock = Date.parse("2030-01-01T00:00:00Z");
  const refresh = createRefreshTokens({ users: stores.users, ttlSec: 3600, now: () => clock });
  return { stores, user, refresh, advance: (ms: number) => (clock += ms) };
}

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (e instanceof AuthError ? e.reason : Promise.reject(e)),
  );

describe("refresh tokens", () => {
  test("are 32 random bytes in base64url and stored only as their SHA-256", async () => {
    const { stores, user, refresh } = await setup();
    const token = await refresh.issue(user.id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashRefreshToken(token)).not.toBe(token);
    const record = await stores.users.useRefreshToken(hashRefreshToken(token));
    expect(record?.userId).toBe(user.id);
    expect(await stores.users.useRefreshToken(token)).toBeNull();
  });

  test("rotate spends a token and returns a working successor", async () => {
    const { user, refresh } = await setup();
    const first = await refresh.issue(user.id);
    const { userId, refreshToken: second } = await refresh.rotate(first);
    expect(userId).toBe(user.id);
    expect(second).not.toBe(first);
    expect((await refresh.rotate(second)).userId).toBe(user.id);
  });

  test("reusing a spent token revokes the whole family, including the newest token", async () => {
    const { user, refresh } = await setup();
    const first = await refresh.issue(user.id);
    const { refreshToken: second } = await refresh.rotate(first);
    expect(await reasonOf(refresh.rotate(first))).toBe("invalid");
    expect(await reasonOf(refresh.rotate(second))).toBe("invalid");
  });

  test("other families survive a revocation", async () => {
    const { user, refresh } = await setup();
    const a = await refresh.issue(user.id);
    const b = await refresh.issue(user.id);
    await refresh.rotate(a);
    await reasonOf(refresh.rotate(a));
    expect((await refresh.rotate(b)).userId).toBe(user.id);
  });

  test("an expired token is refused as expired", async () => {
    const { user, refresh, advance } = await setup();
    const token = await refresh.issue(user.id);
    advance(3600_000);
    expect(await reasonOf(refresh.rotate(token))).toBe("expired");
  });

  test("unknown tokens are invalid; revoke (logout) ends the family", async () => {
    const { user, refresh } = await setup();
    expect(await reasonOf(refresh.rotate("no-such-token"))).toBe("invalid");
    const token = await refresh.issue(user.id);
    const { refreshToken: next } = await refresh.rotate(token);
    await refresh.revoke(next);
    expect(await reasonOf(refresh.rotate(next))).toBe("invalid");
    await refresh.revoke("no-such-token");
  });
});
