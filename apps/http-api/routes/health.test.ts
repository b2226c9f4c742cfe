import { afterEach, describe, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../../../testkit/http-api.ts";

let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

describe("health", () => {
  test("GET /healthz answers while the process runs", async () => {
    api = await startTestApi();
    const res = await api.call("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  test("GET /readyz is 200 while stores and backlog answer", async () => {
    api = await startTestApi();
    expect((await api.call("GET", "/readyz")).body).toEqual({ status: "ready" });
  });

  test("GET /readyz is 503 naming what is down", async () => {
    api = await startTestApi();
    await api.stores.close();
    const res = await api.call("GET", "/readyz", { operator: true });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("not_ready");
    expect(res.body.error.message).toContain("stores");
    expect(res.body.error.message).not.toContain("backlog");
    // Anyone else learns only that the app is not ready.
    const outside = await api.call("GET", "/readyz");
    expect(outside.status).toBe(503);
    expect(outside.body.error.message).toBe("a dependency is not reachable");
  });
});
