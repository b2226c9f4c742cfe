import { beforeAll, describe, expect, test } from "bun:test";
import type { Mount } from "../../lib/http/serve.ts";
import { createWebMount } from "./serve.ts";

let web: Mount;
const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  web.handle(
    new Request(`http://x${path}`, { method, headers }),
    undefined as never,
    "127.0.0.1",
  ) as Promise<Response>;

beforeAll(async () => {
  web = await createWebMount();
}, 30_000);

describe("the web mount", () => {
  test("index.html at / and at every room's URL, always revalidated, naming hashed assets", async () => {
    const home = await get("/");
    expect(home.headers.get("content-type")).toContain("text/html");
    expect(home.headers.get("cache-control")).toBe("no-cache");
    const html = await home.text();
    expect(html).toMatch(/src="\/app\.[0-9a-z]+\.js"/);
    expect(html).toMatch(/href="\/app\.[0-9a-z]+\.css"/);
    for (const path of [
      "/rooms/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
      "/rooms/anything/",
      "/invite",
      "/index.html",
    ]) {
      expect(await (await get(path)).text()).toBe(html);
    }
  });

  test("hashed assets are immutable and gzipped for clients that accept it", async () => {
    const html = await (await get("/")).text();
    const js = /src="(\/app\.[0-9a-z]+\.js)"/.exec(html)![1]!;
    const plain = await get(js);
    expect(plain.headers.get("cache-control")).toContain("immutable");
    expect(plain.headers.get("content-encoding")).toBeNull();
    const zipped = await get(js, { "accept-encoding": "gzip, br" });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    const raw = new Uint8Array(await plain.arrayBuffer());
    expect(Bun.gunzipSync(new Uint8Array(await zipped.arrayBuffer()))).toEqual(raw);
    // React's production build: no development warnings shipped.
    expect(new TextDecoder().decode(raw)).not.toContain("react.development");
  });

  test("other paths and methods are a JSON 404", async () => {
    for (const [path, method] of [
      ["/nope", "GET"],
      ["/rooms/a/b", "GET"],
      ["/", "POST"],
    ] as const) {
      const res = await get(path, {}, method);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("not_found");
    }
  });
});
