import { afterAll, beforeAll, expect, test } from "bun:test";
import { type EmbeddedApp, startEmbeddedApp } from "../../testkit/embedded-app.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

/**
 * Issue 13, row 6, against the one-process app: a logout ends that login's STOMP sessions on /ws and
 * /presence at once (ERROR session_revoked, close 4003), other logins of the user go on, and the
 * logged-out access token — still unexpired — no longer connects.
 */
let app: EmbeddedApp;
beforeAll(async () => {
  app = await startEmbeddedApp();
}, 60_000);
afterAll(() => app?.stop());

test("logout ends the login's sessions on every endpoint; another login's session stays", async () => {
  const first = await app.signup("leaver");
  const second = await app.call("POST", "/api/auth/login", {
    username: first.username,
    password: "quiet walrus drinks 4 teas",
  });
  expect(second.status).toBe(200);
  const presenceUrl = app.wsUrl.replace(/\/ws$/, "/presence");
  const chat = await RawStomp.connect(app.wsUrl, first.token);
  const roster = await RawStomp.connect(presenceUrl, first.token);
  const other = await RawStomp.connect(app.wsUrl, second.body.accessToken);

  const out = await app.call("POST", "/api/auth/logout", { refreshToken: first.refreshToken });
  expect(out.status).toBe(204);
  for (const c of [chat, roster]) {
    const f = await c.next((x) => x.command === "ERROR");
    expect(f.headers["x-error-code"]).toBe("session_revoked");
    expect((await c.closed).code).toBe(4003);
  }
  other.sendFrame("SUBSCRIBE", { id: "e", destination: "/user/queue/errors", receipt: "alive" });
  expect((await other.next((x) => x.command === "RECEIPT")).headers["receipt-id"]).toBe("alive");
  const again = await RawStomp.connect(app.wsUrl, first.token).catch((e: Error) => e.message);
  expect(again).toContain("authentication failed");
  other.close();
});
