import { describe, expect, test } from "bun:test";
import { createSqliteStores } from "../store/sqlite/index.ts";
import { AuthError } from "./errors.ts";
import { createRefreshTokens, hashRefreshToken, REFRESH_REUSE_GRACE_MS, refreshClientId } from "./refresh.ts";

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
    const use = { at: new Date().toISOString(), by: null };
    const record = await stores.users.useRefreshToken(hashRefreshToken(token), use);
    expect(record?.userId).toBe(user.id);
    expect(await stores.users.useRefreshToken(token, use)).toBeNull();
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

  test("the client that spent a token may present it again within the grace window: a fresh token, family intact", async () => {
    const { user, refresh, advance } = await setup();
    const tab = refreshClientId("203.0.113.7", "Mozilla/5.0 test");
    const first = await refresh.issue(user.id);
    const a = await refresh.rotate(first, tab);
    advance(REFRESH_REUSE_GRACE_MS - 1);
    const b = await refresh.rotate(first, tab);
    expect(b.userId).toBe(user.id);
    expect(b.refreshToken).not.toBe(a.refreshToken);
    // Both successors work: nothing was revoked.
    expect((await refresh.rotate(a.refreshToken, tab)).userId).toBe(user.id);
    expect((await refresh.rotate(b.refreshToken, tab)).userId).toBe(user.id);
  });

  test("after the grace window, or from another client, a reuse revokes the family", async () => {
    const { user, refresh, advance } = await setup();
    const tab = refreshClientId("203.0.113.7", "Mozilla/5.0 test");
    const late = await refresh.issue(user.id);
    const lateNext = await refresh.rotate(late, tab);
    advance(REFRESH_REUSE_GRACE_MS + 1);
    expect(await reasonOf(refresh.rotate(late, tab))).toBe("invalid");
    expect(await reasonOf(refresh.rotate(lateNext.refreshToken, tab))).toBe("invalid");

    const stolen = await refresh.issue(user.id);
    const stolenNext = await refresh.rotate(stolen, tab);
    const thief = refreshClientId("198.51.100.9", "Mozilla/5.0 test");
    expect(await reasonOf(refresh.rotate(stolen, thief))).toBe("invalid");
    expect(await reasonOf(refresh.rotate(stolenNext.refreshToken, tab))).toBe("invalid");

    // A client that names itself nowhere (no clientId) gets no grace either.
    const anon = await refresh.issue(user.id);
    await refresh.rotate(anon);
    expect(await reasonOf(refresh.rotate(anon))).toBe("invalid");
  });

  test("a revoked family stays revoked inside the grace window", async () => {
    const { user, refresh } = await setup();
    const tab = refreshClientId("203.0.113.7", "ua");
    const token = await refresh.issue(user.id);
    const { refreshToken: next } = await refresh.rotate(token, tab);
    await refresh.revoke(next);
    expect(await reasonOf(refresh.rotate(token, tab))).toBe("invalid");
  });

  test("client ids depend on address and User-Agent", () => {
    expect(refreshClientId("a", "ua")).toBe(refreshClientId("a", "ua"));
    expect(refreshClientId("a", "ua")).not.toBe(refreshClientId("b", "ua"));
    expect(refreshClientId("a", "ua")).not.toBe(refreshClientId("a", "ub"));
    expect(refreshClientId("a", null)).toBe(refreshClientId("a", ""));
  });
});
