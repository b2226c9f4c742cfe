import { afterAll, expect, test } from "bun:test";
import { type EmbeddedApp, startEmbeddedApp } from "../../testkit/embedded-app.ts";

/**
 * Issue 13, row 10, against the one-process app: /metrics and /readyz's details are not public,
 * and the passwords the attack run got accepted (12345678, aaaaaaaa) are refused with a clear reason.
 */
const apps: EmbeddedApp[] = [];
afterAll(() => Promise.all(apps.map((a) => a.stop())));

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

test("by default /metrics answers only direct local requests; with METRICS_PORT only its own listener", async () => {
  const app = await startEmbeddedApp();
  apps.push(app);
  expect((await fetch(`${app.url}/metrics`)).status).toBe(200);
  const proxied = await fetch(`${app.url}/metrics`, { headers: { "x-forwarded-for": "203.0.113.9" } });
  expect(proxied.status).toBe(404);
  const ready = await fetch(`${app.url}/readyz`, { headers: { "x-forwarded-for": "203.0.113.9" } });
  expect(ready.status).toBe(200);

  const metricsPort = await freePort();
  const separate = await startEmbeddedApp({ METRICS_PORT: String(metricsPort) });
  apps.push(separate);
  expect((await fetch(`${separate.url}/metrics`)).status).toBe(404);
  const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(scraped.status).toBe(200);
  expect(await scraped.text()).toContain("chattalk_");
}, 60_000);

test("sign-up refuses 12345678 and aaaaaaaa with a field message", async () => {
  const app = apps[0]!;
  for (const password of ["12345678", "aaaaaaaa"]) {
    const res = await app.call("POST", "/api/auth/signup", { username: `weak${password[0]}user`, password });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.password).toBe("is one of the most common passwords; choose another");
  }
});
