import { afterAll, beforeAll, expect, test } from "bun:test";
import { CONTENT_SECURITY_POLICY } from "../../lib/http/security-headers.ts";
import { type EmbeddedApp, startEmbeddedApp } from "../../testkit/embedded-app.ts";

/**
 * Issue 13, row 7, against the one-process app: the web client and the API carry a strict CSP
 * (no 'unsafe-inline'), nosniff, frame-ancestors 'none' and X-Frame-Options DENY, and a
 * Referrer-Policy; WebSocket upgrades from another site's page are refused unless ALLOWED_ORIGINS
 * names it, while clients that send no Origin (non-browser) connect.
 */
let app: EmbeddedApp;
beforeAll(async () => {
  app = await startEmbeddedApp({ ALLOWED_ORIGINS: "https://friend.example" });
}, 60_000);
afterAll(() => app?.stop());

test("the web client, its script and the API answer with the security headers", async () => {
  expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe-inline");
  expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  for (const path of ["/", "/app.js", "/api/rooms", "/no-such-path", "/healthz"]) {
    const res = await fetch(`${app.url}${path}`);
    expect(res.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  }
  // The API docs page keeps its own, hash-based policy for its inline parts.
  const docs = await fetch(`${app.url}/api/docs`);
  expect(docs.headers.get("content-security-policy")).toContain("sha256-");
  expect(docs.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
});

/** Opens /ws with the given Origin (Bun's WebSocket takes headers); true when it opened. */
const opens = (origin?: string, host?: string) =>
  new Promise<boolean>((resolve) => {
    const headers: Record<string, string> = {};
    if (origin) headers.Origin = origin;
    if (host) headers.Host = host;
    const ws = new WebSocket(app.wsUrl, { headers } as unknown as string[]);
    ws.onopen = () => {
      ws.close();
      resolve(true);
    };
    ws.onerror = () => resolve(false);
  });

test("WebSocket upgrades: same site, allowed origins and no Origin pass; other sites' pages are refused", async () => {
  const own = new URL(app.url);
  expect(await opens(own.origin)).toBe(true);
  expect(await opens("https://friend.example")).toBe(true);
  expect(await opens()).toBe(true);
  expect(await opens("https://evil.example")).toBe(false);
  expect(await opens("null")).toBe(false);
  // The refusal says why.
  const res = await fetch(`${app.url}/ws`, {
    headers: { Upgrade: "websocket", Connection: "Upgrade", Origin: "https://evil.example" },
  });
  expect(res.status).toBe(403);
  expect((await res.json()).error.code).toBe("origin_not_allowed");
});
