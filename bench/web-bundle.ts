/**
 * Web-bundle benchmark: what a browser downloads to start the client (issue 15's budget: at most
 * 200 KB gzipped), built exactly as the server builds and serves it (apps/web/serve.ts). Cheap, so it
 * runs with every `bun run bench`; `bun run bench web-bundle` re-measures only it.
 */
import { buildWeb } from "../apps/web/serve.ts";

export const TITLE = "### Web client bundle (gzipped, as served)";
const BUDGET_BYTES = 200 * 1024;

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

export default async function webBundle(): Promise<string> {
  const started = performance.now();
  const files = await buildWeb();
  const ms = Math.round(performance.now() - started);
  const rows = [...files].map(([path, f]) => ({
    name: path === "/" ? "/index.html" : path.replace(/\.[a-z0-9]+\.(js|css)$/, ".$1"),
    raw: f.body.length,
    gzip: f.gzip.length,
  }));
  const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip }), { raw: 0, gzip: 0 });
  const within = total.gzip <= BUDGET_BYTES;
  const section = [
    TITLE,
    "",
    "`bun run bench web-bundle`: the client's files as the server builds them (`Bun.build`, minified) and",
    "serves them with `Content-Encoding: gzip`. React 19, react-dom, react-virtuoso and @stomp/stompjs are",
    "all in `app.js`.",
    "",
    "| file | raw | gzipped |",
    "|---|---:|---:|",
    ...rows.map((r) => `| \`${r.name}\` | ${kb(r.raw)} | ${kb(r.gzip)} |`),
    `| **total** | ${kb(total.raw)} | **${kb(total.gzip)}** |`,
    "",
    `Budget: ${kb(BUDGET_BYTES)} gzipped — ${within ? `within it (${Math.round((100 * total.gzip) / BUDGET_BYTES)} %)` : "OVER BUDGET"}. Built in ${ms} ms.`,
    "",
  ].join("\n");
  return section;
}
