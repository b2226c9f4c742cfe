/**
 * /api/docs: a self-contained page that reads /api/openapi.json and lists operations, parameters,
 * bodies, responses and schemas. No CDN and no network beyond this server, so it works offline and
 * on intranets. Text from the spec is inserted with textContent only.
 */
const style = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
main{max-width:980px;margin:0 auto;padding:16px 24px}h2{margin:28px 0 8px;font-size:17px}
details{background:#fff;border:1px solid #d9dde3;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:10px;align-items:baseline}
.m{font:600 12px ui-monospace,monospace;padding:2px 6px;border-radius:4px;color:#fff;min-width:52px;text-align:center}
.get{background:#2f7d4f}.post{background:#2a5db0}.delete{background:#b03a2e}.put,.patch{background:#9a6b00}
.p{font-family:ui-monospace,monospace}.s{color:#5b6472}.lock{color:#9a6b00;font-size:12px}
.body{padding:4px 16px 12px}table{border-collapse:collapse;width:100%;margin:6px 0}
td,th{border-top:1px solid #e6e8ec;padding:4px 6px;text-align:left;vertical-align:top;font-size:14px}
pre{background:#f0f2f5;padding:8px;border-radius:4px;overflow:auto;font-size:13px;margin:4px 0}
`;

const script = `
const el = (tag, attrs, ...kids) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  for (const k of kids) if (k != null) n.append(k);
  return n;
};
const ref = (s) => (s && s.$ref ? s.$ref.split("/").pop() : null);
const typeOf = (s) => {
  if (!s) return "";
  if (ref(s)) return ref(s);
  if (s.type === "array") return typeOf(s.items) + "[]";
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf || s.oneOf) return (s.anyOf || s.oneOf).map(typeOf).join(" | ");
  return Array.isArray(s.type) ? s.type.join(" | ") : s.type || "object";
};
const schemaTable = (s) => {
  const props = s && s.properties;
  if (!props) return el("pre", {}, JSON.stringify(s, null, 2));
  const req = new Set(s.required || []);
  const t = el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "notes")));
  for (const [name, p] of Object.entries(props)) {
    const notes = [req.has(name) ? "required" : "optional", p.description, p.minLength != null && "min length " + p.minLength,
      p.maxLength != null && "max length " + p.maxLength, p.minimum != null && "min " + p.minimum,
      p.maximum != null && "max " + p.maximum, p.default !== undefined && "default " + JSON.stringify(p.default)];
    t.append(el("tr", {}, el("td", { class: "p" }, name), el("td", { class: "p" }, typeOf(p)),
      el("td", {}, notes.filter(Boolean).join("; "))));
  }
  return t;
};
const operation = (path, method, op) => {
  const body = el("div", { class: "body" });
  if (op.description) body.append(el("p", {}, op.description));
  if (op.parameters && op.parameters.length) {
    const t = el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "type"), el("th", {}, "notes")));
    for (const p of op.parameters) t.append(el("tr", {}, el("td", { class: "p" }, p.name), el("td", {}, p.in),
      el("td", { class: "p" }, typeOf(p.schema)), el("td", {}, [p.required ? "required" : "optional", p.description].filter(Boolean).join("; "))));
    body.append(el("h4", {}, "Parameters"), t);
  }
  const reqSchema = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
  if (reqSchema) body.append(el("h4", {}, "Request body: ", el("span", { class: "p" }, typeOf(reqSchema.schema))));
  const rt = el("table", {}, el("tr", {}, el("th", {}, "status"), el("th", {}, "body"), el("th", {}, "meaning")));
  for (const [code, r] of Object.entries(op.responses || {})) {
    const c = r.content && r.content["application/json"];
    rt.append(el("tr", {}, el("td", { class: "p" }, code), el("td", { class: "p" }, c ? typeOf(c.schema) : "—"), el("td", {}, r.description || "")));
  }
  body.append(el("h4", {}, "Responses"), rt);
  const locked = op.security && op.security.length ? el("span", { class: "lock" }, "bearer token") : null;
  return el("details", {}, el("summary", {}, el("span", { class: "m " + method }, method.toUpperCase()),
    el("span", { class: "p" }, path), el("span", { class: "s" }, op.summary || ""), locked), body);
};
const render = (spec) => {
  const main = document.querySelector("main");
  main.textContent = "";
  document.title = spec.info.title + " — API";
  document.querySelector("header h1").textContent = spec.info.title + " " + spec.info.version;
  if (spec.info.description) main.append(el("p", {}, spec.info.description));
  const groups = new Map();
  for (const [path, item] of Object.entries(spec.paths || {}))
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operation(path, method, op));
    }
  for (const [tag, ops] of groups) main.append(el("h2", {}, tag), ...ops);
  main.append(el("h2", {}, "Schemas"));
  for (const [name, s] of Object.entries((spec.components && spec.components.schemas) || {}))
    main.append(el("details", {}, el("summary", {}, el("span", { class: "p" }, name)), el("div", { class: "body" }, schemaTable(s))));
};
fetch("/api/openapi.json").then((r) => r.json()).then(render, (e) => {
  document.querySelector("main").textContent = "Could not load /api/openapi.json: " + e;
});
`;

const sha256 = (text: string) => `'sha256-${new Bun.CryptoHasher("sha256").update(text).digest("base64")}'`;

export const docsHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>API docs</title><style>${style}</style></head>
<body><header><h1>API</h1></header><main><p>Loading <a href="/api/openapi.json">/api/openapi.json</a>…</p></main>
<script>${script}</script></body></html>`;

/** Only this page's own inline script and style may run, and it may only fetch from this origin. */
export const docsCsp = `default-src 'none'; script-src ${sha256(script)}; style-src ${sha256(style)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
