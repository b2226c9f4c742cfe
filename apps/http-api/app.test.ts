import { afterEach, describe, expect, test } from "bun:test";
import { MISSING_ROOM, startTestApi, type TestApi } from "../../testkit/http-api.ts";

let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

type Spec = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; parameters?: { name: string; in: string }[] }>
  >;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

const METHODS = new Set(["get", "post", "put", "patch", "delete"]);
/** Routes that serve the documentation itself rather than the API. */
const SELF = new Set(["GET /api/openapi.json", "GET /api/docs"]);

describe("OpenAPI document", () => {
  test("is OpenAPI 3.1 with the bearer scheme and the shared Error schema", async () => {
    api = await startTestApi();
    const res = await api.call("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    const spec = res.body as Spec;
    expect(spec.openapi).toBe("3.1.0");
    expect(spec.components.securitySchemes.bearerAuth).toEqual({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    expect(spec.components.schemas.Error).toBeDefined();
  });

  test("documents every route the app serves, and nothing it does not", async () => {
    api = await startTestApi();
    const spec = (await api.call("GET", "/api/openapi.json")).body as Spec;
    const served = new Set(
      api.app.routes
        .filter((r) => METHODS.has(r.method.toLowerCase()))
        .map((r) => `${r.method.toUpperCase()} ${r.path}`)
        .filter((r) => !SELF.has(r)),
    );
    const documented = new Set(
      Object.entries(spec.paths).flatMap(([path, item]) =>
        Object.keys(item).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`),
      ),
    );
    expect([...served].sort()).toEqual([...documented].sort());
    expect(served.size).toBeGreaterThanOrEqual(16);
  });

  test("every operation declares responses and its path parameters; every $ref resolves", async () => {
    api = await startTestApi();
    const spec = (await api.call("GET", "/api/openapi.json")).body as Spec;
    for (const [path, item] of Object.entries(spec.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      for (const op of Object.values(item)) {
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        expect(declared.sort()).toEqual(templated.sort());
      }
    }
    const refs = [...JSON.stringify(spec).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const name of refs) expect(spec.components.schemas[name]).toBeDefined();
  });
});

describe("GET /api/docs", () => {
  test("is a self-contained HTML page that loads /api/openapi.json", async () => {
    api = await startTestApi();
    const res = await api.call("GET", "/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = res.body as string;
    expect(html).toContain("/api/openapi.json");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
  });
});

describe("errors", () => {
  test("unknown routes answer 404 in the JSON error shape", async () => {
    api = await startTestApi();
    const res = await api.call("GET", "/api/nope");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  test("bodies over 64 KiB are refused with 413", async () => {
    api = await startTestApi();
    const res = await api.call("POST", "/api/auth/login", {
      body: { username: "alice", password: "x".repeat(70_000) },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  test("an unexpected failure is a 500 without internals", async () => {
    const logged: string[] = [];
    api = await startTestApi({
      log: (_level, msg, fields) => logged.push(`${msg} ${JSON.stringify(fields)}`),
    });
    const { token } = await api.signup();
    await api.stores.close();
    const res = await api.call("GET", "/api/me", { token });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(logged.some((l) => l.startsWith("unhandled error"))).toBe(true);
  });
});

describe("methods", () => {
  test("a method a path does not answer is 405 with Allow; an unknown path stays 404", async () => {
    api = await startTestApi();
    const res = await api.call("TRACE", "/api/rooms");
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe("method_not_allowed");
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
    const one = await api.call("PUT", `/api/rooms/${MISSING_ROOM}`);
    expect(one.headers.get("allow")).toBe("DELETE, GET, HEAD, PATCH");
    expect((await api.call("GET", "/api/nowhere")).status).toBe(404);
    // A literal path is not taken for another method's {id}.
    const discover = await api.call("DELETE", "/api/rooms/discover");
    expect(discover.status).toBe(405);
    expect(discover.headers.get("allow")).toBe("GET, HEAD");
  });
});
