import type { Mount } from "../../lib/http/serve.ts";

/**
 * The browser client, bundled once at start with Bun.build and served from memory. In a cluster,
 * `bun apps/web/serve.ts <dir>` writes the same files to a folder for nginx to serve.
 */
export async function buildWeb(): Promise<Map<string, { body: Blob; type: string }>> {
  const here = new URL(".", import.meta.url).pathname;
  const result = await Bun.build({ entrypoints: [`${here}src/main.ts`], target: "browser", minify: true });
  if (!result.success) throw new Error(`web build failed: ${result.logs.map(String).join("\n")}`);
  const files = new Map<string, { body: Blob; type: string }>();
  files.set("/app.js", { body: result.outputs[0]!, type: "text/javascript; charset=utf-8" });
  files.set("/app.css", { body: Bun.file(`${here}app.css`), type: "text/css; charset=utf-8" });
  files.set("/", { body: Bun.file(`${here}index.html`), type: "text/html; charset=utf-8" });
  return files;
}

export async function createWebMount(): Promise<Mount> {
  const files = await buildWeb();
  return {
    prefix: "/",
    handle(req) {
      const path = new URL(req.url).pathname;
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      const file = files.get(path === "/index.html" ? "/" : path);
      if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
        return Response.json(
          { error: { code: "not_found", message: `no route for ${path}` } },
          { status: 404 },
        );
      }
      return new Response(file.body, { headers: { "content-type": file.type, "cache-control": "no-cache" } });
    },
  };
}

if (import.meta.main) {
  const out = process.argv[2];
  if (!out) throw new Error("usage: bun apps/web/serve.ts <output dir>");
  for (const [path, f] of await buildWeb())
    await Bun.write(`${out}${path === "/" ? "/index.html" : path}`, f.body);
}
