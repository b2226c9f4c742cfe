import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { isDirectLocal, localOnly } from "./operator.ts";

/** A server whose peers are whatever the test says. */
const from = (address: string) =>
  ({ requestIP: () => ({ address, family: "IPv4", port: 1 }) }) as unknown as Server<unknown>;
const get = (headers: Record<string, string> = {}) => new Request("http://x/metrics", { headers });

describe("operator endpoints", () => {
  test("direct local means a loopback peer without a proxy's forwarding header", () => {
    expect(isDirectLocal(get(), from("127.0.0.1"))).toBe(true);
    expect(isDirectLocal(get(), from("::1"))).toBe(true);
    expect(isDirectLocal(get(), from("::ffff:127.0.0.1"))).toBe(true);
    expect(isDirectLocal(get(), from("203.0.113.9"))).toBe(false);
    expect(isDirectLocal(get(), from("10.0.0.2"))).toBe(false);
    // Through nginx on the same machine: still somebody else's request.
    expect(isDirectLocal(get({ "x-forwarded-for": "203.0.113.9" }), from("127.0.0.1"))).toBe(false);
    expect(isDirectLocal(get({ forwarded: "for=203.0.113.9" }), from("127.0.0.1"))).toBe(false);
  });

  test("a local-only mount answers others with a plain 404", async () => {
    const mount = localOnly({ prefix: "/metrics", handle: () => new Response("secret") });
    expect(await (await mount.handle(get(), from("127.0.0.1"), "127.0.0.1"))!.text()).toBe("secret");
    const outside = (await mount.handle(get(), from("198.51.100.4"), "198.51.100.4"))!;
    expect(outside.status).toBe(404);
    expect((await outside.json()).error.code).toBe("not_found");
  });
});
