import { stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { jsonError } from "./json-error.ts";
import type { Mount } from "./serve.ts";

/**
 * A folder of built files served at "/": the web client as `bun apps/web/serve.ts <dir>` writes it,
 * for a process that should not bundle it at start (the Docker image). GET and HEAD only; `/` is
 * index.html, and so is every path `indexFor` names (the client's own routes, e.g. `/rooms/<id>`,
 * so reloads and deep links work); nothing outside the folder is reachable.
 */
export function staticDirMount(dir: string, opts: { indexFor?: (path: string) => boolean } = {}): Mount {
  const root = resolve(dir);
  const notFound = (path: string) => jsonError(404, "not_found", `no route for ${path}`);
  return {
    prefix: "/",
    async handle(req) {
      const path = new URL(req.url).pathname;
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      if (req.method !== "GET" && req.method !== "HEAD") return notFound(path);
      let name: string;
      try {
        name = decodeURIComponent(path === "/" || opts.indexFor?.(path) ? "/index.html" : path);
      } catch {
        return notFound(path);
      }
      const file = resolve(root, `.${name}`);
      if (!file.startsWith(root + sep)) return notFound(path);
      const isFile = await stat(file).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!isFile) return notFound(path);
      const body = Bun.file(file);
      return new Response(body, { headers: { "content-type": body.type, "cache-control": "no-cache" } });
    },
  };
}
