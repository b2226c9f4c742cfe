import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTokenService } from "../../lib/auth/tokens.ts";
import { sessionsRevoked } from "../../lib/chat/control.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, TEST_JWT_SECRET, type WsHarness } from "../../testkit/ws-harness.ts";

/**
 * Issue 13, rows 6 and 9, on one ws-node: a session ends at its token's expiry (4001), at a
 * revocation event for its login or its user (4003), and a token of a revoked login or of a user
 * who is gone no longer passes CONNECT.
 */
let h: WsHarness;
beforeAll(async () => {
  h = await startWsHarness();
});
afterAll(() => h.stop());

/** A token for the user in a login (refresh-token family), issued `ageSec` ago. */
const tokenFor = (user: { id: string; username: string }, familyId?: string, ageSec = 0) =>
  createTokenService({
    secret: new TextEncoder().encode(TEST_JWT_SECRET),
    issuer: h.config.JWT_ISSUER,
    audience: h.config.JWT_AUDIENCE,
    accessTtlSec: h.config.ACCESS_TOKEN_TTL_SEC,
    now: () => Date.now() - ageSec * 1000,
  }).issueAccessToken(user, familyId);

async function saveFamily(userId: string, familyId: string): Promise<void> {
  const expiresAt = new Date(Date.now() + 60_000).toISOString();
  await h.backends.stores.users.saveRefreshToken({ tokenHash: `h-${familyId}`, familyId, userId, expiresAt });
}

describe("sessions end when their credential does", () => {
  test("at the access token's expiry: ERROR token_expired, close 4001", async () => {
    const { user } = await h.user("expiring");
    // Issued so that it has about 1.5 s left.
    const token = await tokenFor(user, undefined, h.config.ACCESS_TOKEN_TTL_SEC - 1.5);
    const c = await RawStomp.connect(h.url, token);
    const f = await c.next((x) => x.command === "ERROR", 5_000);
    expect(f.headers.message).toBe("token expired");
    expect(f.headers["x-error-code"]).toBe("token_expired");
    expect((await c.closed).code).toBe(4001);
  });

  test("a logout event ends that login's sessions only; its token no longer connects", async () => {
    const { user } = await h.user("loggingout");
    await saveFamily(user.id, "fam-a");
    await saveFamily(user.id, "fam-b");
    const a = await RawStomp.connect(h.url, await tokenFor(user, "fam-a"));
    const b = await RawStomp.connect(h.url, await tokenFor(user, "fam-b"));
    await h.backends.stores.users.revokeRefreshFamily("fam-a");
    await h.backends.bus.publishControl(sessionsRevoked(user.id, "logout", "fam-a"));
    const f = await a.next((x) => x.command === "ERROR");
    expect(f.headers.message).toBe("session revoked");
    expect(f.headers["x-error-code"]).toBe("session_revoked");
    expect(f.headers["x-revoked-reason"]).toBe("logout");
    expect((await a.closed).code).toBe(4003);
    // The other login goes on.
    b.sendFrame("SUBSCRIBE", { id: "e", destination: "/user/queue/errors", receipt: "still" });
    expect((await b.next((x) => x.command === "RECEIPT")).headers["receipt-id"]).toBe("still");
    // Reconnecting with the revoked login's (unexpired) access token is refused.
    const err = await RawStomp.connect(h.url, await tokenFor(user, "fam-a")).catch((e: Error) => e.message);
    expect(err).toContain("authentication failed");
    b.close();
  });

  test("a user row gone: CONNECT refused, and the account-deleted event ends live sessions", async () => {
    const { user, token } = await h.user("leaving");
    const c = await RawStomp.connect(h.url, token);
    const db = new Database(join(h.config.DATA_DIR, "chattalk.db"));
    db.exec("PRAGMA foreign_keys = ON");
    db.query("DELETE FROM users WHERE id = $id").run({ id: user.id });
    db.close();
    await h.backends.bus.publishControl(sessionsRevoked(user.id, "account-deleted"));
    expect((await c.next((x) => x.command === "ERROR")).headers["x-error-code"]).toBe("session_revoked");
    expect((await c.closed).code).toBe(4003);
    const err = await RawStomp.connect(h.url, token).catch((e: Error) => e.message);
    expect(err).toContain("authentication failed");
  });
});
