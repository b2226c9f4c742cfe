import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { staticDirMount } from "./static-dir.ts";

const parent = mkdtempSync(join(tmpdir(), "chattalk-static-"));
const dir = join(parent, "web");
mkdirSync(join(dir, "assets"), { recursive: true });
writeFileSync(join(dir, "index.html"), "<!doctype html>");
writeFileSync(join(dir, "app.js"), "console.log(1)");
writeFileSync(join(parent, "secret.txt"), "outside");
afterAll(() => rmSync(parent, { recursive: true, force: true }));

const mount = staticDirMount(dir);
const get = async (path: string, method = "GET") =>
  (await mount.handle(new Request(`http://x${path}`, { method }), undefined as never, "127.0.0.1"))!;

test("serves the folder's files with their types, / as index.html, and nothing else", async () => {
  const index = await get("/");
  expect(index.status).toBe(200);
  expect(index.headers.get("content-type")).toStartWith("text/html");
  expect(await index.text()).toBe("<!doctype html>");
  const js = await get("/app.js");
  expect(js.headers.get("content-type")).toStartWith("text/javascript");
  expect(js.headers.get("cache-control")).toBe("no-cache");
  expect((await get("/favicon.ico")).status).toBe(204);
  for (const path of ["/missing.js", "/assets", "/../secret.txt", "/%2e%2e/secret.txt", "/%E0%A4%A"]) {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
  }
  expect((await get("/app.js", "POST")).status).toBe(404);
});

test("paths the client routes itself answer with index.html", async () => {
  const spa = staticDirMount(dir, { indexFor: (p) => p.startsWith("/rooms/") });
  const res = await spa.handle(new Request("http://x/rooms/abc"), undefined as never, "127.0.0.1");
  expect(await res!.text()).toBe("<!doctype html>");
  expect((await get("/rooms/abc")).status).toBe(404);
});
