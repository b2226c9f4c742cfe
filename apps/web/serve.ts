import type { Mount } from "../../lib/http/serve.ts";

export interface WebFile {
  body: Uint8Array<ArrayBuffer>;
  /** The same bytes gzipped, for clients that accept it. */
  gzip: Uint8Array<ArrayBuffer>;
  type: string;
  /** Content-hashed assets never change under their name. */
  immutable: boolean;
}

/** Paths the client routes itself (a room, an invite link): each answers with index.html, so reloads and deep links work. */
const CLIENT_ROUTE = /^\/(?:rooms\/[^/]+\/?|invite\/?)?$/;
export const isClientRoute = (path: string) => CLIENT_ROUTE.test(path);

const here = new URL(".", import.meta.url).pathname;

function file(body: Uint8Array<ArrayBuffer>, type: string, immutable: boolean): WebFile {
  return { body, gzip: Bun.gzipSync(body), type, immutable };
}

/**
 * The browser client (React, bundled by Bun.build), built once at start and served from memory.
 * The script and stylesheet get content-hashed names so browsers may cache them for good, while
 * index.html is always revalidated. In a cluster, `bun apps/web/serve.ts <dir>` writes the same
 * files to a folder for nginx to serve.
 */
export async function buildWeb(): Promise<Map<string, WebFile>> {
  const result = await Bun.build({
    entrypoints: [`${here}src/main.tsx`],
    target: "browser",
    minify: true,
    define: { "process.env.NODE_ENV": '"production"' },
  });
  if (!result.success) throw new Error(`web build failed: ${result.logs.map(String).join("\n")}`);
  const js = new Uint8Array(await result.outputs[0]!.arrayBuffer());
  const css = new Uint8Array(await Bun.file(`${here}app.css`).arrayBuffer());
  const hash = (b: Uint8Array<ArrayBuffer>) => Bun.hash(b).toString(36).slice(0, 10);
  const jsPath = `/app.${hash(js)}.js`;
  const cssPath = `/app.${hash(css)}.css`;
  const html = (await Bun.file(`${here}index.html`).text())
    .replace('href="/app.css"', `href="${cssPath}"`)
    .replace('src="/app.js"', `src="${jsPath}"`);
  return new Map([
    ["/", file(new TextEncoder().encode(html), "text/html; charset=utf-8", false)],
    [jsPath, file(js, "text/javascript; charset=utf-8", true)],
    [cssPath, file(css, "text/css; charset=utf-8", true)],
  ]);
}

export async function createWebMount(): Promise<Mount> {
  const files = await buildWeb();
  return {
    prefix: "/",
    handle(req) {
      const path = new URL(req.url).pathname;
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      const f = files.get(isClientRoute(path) || path === "/index.html" ? "/" : path);
      if (!f || (req.method !== "GET" && req.method !== "HEAD")) {
        return Response.json(
          { error: { code: "not_found", message: `no route for ${path}` } },
          { status: 404 },
        );
      }
      const gzip = /\bgzip\b/.test(req.headers.get("accept-encoding") ?? "");
      const headers: Record<string, string> = {
        "content-type": f.type,
        "cache-control": f.immutable ? "public, max-age=31536000, immutable" : "no-cache",
        vary: "accept-encoding",
      };
      if (gzip) headers["content-encoding"] = "gzip";
      return new Response(gzip ? f.gzip : f.body, { headers });
    },
  };
}

/** `bun apps/web/serve.ts <dir>`: writes the client for nginx and prints each file's size, raw and gzipped. */
if (import.meta.main) {
  const out = process.argv[2];
  if (!out) throw new Error("usage: bun apps/web/serve.ts <output dir>");
  const started = performance.now();
  const files = await buildWeb();
  const ms = Math.round(performance.now() - started);
  for (const [path, f] of files) {
    const name = path === "/" ? "/index.html" : path;
    await Bun.write(`${out}${name}`, f.body);
    console.log(`${name}\t${f.body.length} B\t${f.gzip.length} B gzipped`);
  }
  console.log(`built in ${ms} ms`);
}
