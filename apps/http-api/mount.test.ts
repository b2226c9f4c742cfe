import { afterEach, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { startTestApi, type TestApi } from "../../testkit/http-api.ts";
import { httpApiMounts } from "./mount.ts";

let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

describe("httpApiMounts", () => {
  test("serves /api, /healthz and /readyz and hands the server's client address to the login limiter", async () => {
    api = await startTestApi({ env: { LOGIN_IP_BURST: "1", LOGIN_IP_REFILL_SEC: "100" } });
    const mounts = httpApiMounts(api.app);
    expect(mounts.map((m) => m.prefix).sort()).toEqual(["/api", "/healthz", "/readyz"]);
    const api_ = mounts.find((m) => m.prefix === "/api")!;
    const login = (ip: string) =>
      api_.handle(
        new Request("http://x/api/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.50" },
          body: JSON.stringify({ username: "someone", password: "password123" }),
        }),
        undefined as unknown as Server<unknown>,
        ip,
      ) as Promise<Response>;
    expect((await login("198.51.100.7")).status).toBe(401);
    // Same forwarded header, same address from the server: limited. Another address: not limited.
    expect((await login("198.51.100.7")).status).toBe(429);
    expect((await login("198.51.100.8")).status).toBe(401);
  });
});
