/**
 * The architecture, as rules over the import graph (type-only imports included): apps never import
 * each other (apps/main.ts is the composition root), lib never imports apps, production code never
 * imports test or bench support, lib/ has no import circle, the STOMP codec stands alone, and
 * adapters never read settings (lib/backends.ts maps them).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Every TypeScript file under the given folders, by repository path, with what it imports. */
function graph(folders: string[]): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const folder of folders) {
    for (const path of new Bun.Glob(`${folder}/**/*.{ts,tsx}`).scanSync({ cwd: ROOT })) {
      if (path.includes("node_modules") || path.includes("/vendor/")) continue;
      const text = readFileSync(join(ROOT, path), "utf8");
      const imports: string[] = [];
      for (const m of text.matchAll(SPECIFIER)) {
        const spec = (m[1] ?? m[2])!;
        imports.push(spec.startsWith(".") ? normalize(join(dirname(path), spec)) : spec);
      }
      files.set(path, imports);
    }
  }
  return files;
}

const all = graph(["apps", "lib", "testkit", "test", "bench", "scripts"]);
const isTest = (path: string) => /\.test\.tsx?$/.test(path);
const appOf = (path: string) => /^apps\/([^/]+)\//.exec(path)?.[1];
const edges = (filter: (from: string, to: string) => boolean) =>
  [...all].flatMap(([from, imports]) =>
    imports.filter((to) => filter(from, to)).map((to) => `${from} -> ${to}`),
  );

/** Import circles among `files`, each as the path around it. */
function cycles(files: string[]): string[][] {
  const inside = new Set(files);
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of all.get(file) ?? []) {
      if (!inside.has(next)) continue;
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

describe("import rules", () => {
  test("the scan sees the tree (a rule over nothing would always pass)", () => {
    expect(all.size).toBeGreaterThan(150);
    expect(all.get("apps/main.ts")).toContain("lib/backends.ts");
  });

  test("no app imports another; apps/main.ts alone composes them", () => {
    expect(
      edges(
        (from, to) =>
          from !== "apps/main.ts" &&
          appOf(from) !== undefined &&
          appOf(to) !== appOf(from) &&
          to.startsWith("apps/"),
      ),
    ).toEqual([]);
  });

  test("lib never imports apps", () => {
    expect(edges((from, to) => from.startsWith("lib/") && to.startsWith("apps/"))).toEqual([]);
  });

  test("production code never imports test or bench support", () => {
    const production = (path: string) =>
      (path.startsWith("apps/") || path.startsWith("lib/")) && !isTest(path);
    const support = (path: string) => /^(testkit|test|bench)\//.test(path);
    expect(edges((from, to) => production(from) && support(to))).toEqual([]);
  });

  test("lib has no import circle", () => {
    expect(cycles([...all.keys()].filter((p) => p.startsWith("lib/")))).toEqual([]);
  });

  test("the STOMP codec is pure: it imports only itself, and nothing from Bun", () => {
    expect(
      edges(
        (from, to) =>
          from.startsWith("lib/stomp/codec/") &&
          !isTest(from) &&
          (!to.startsWith("lib/stomp/codec/") || to === "bun"),
      ),
    ).toEqual([]);
  });

  test("adapters and servers never read settings: lib/backends.ts and lib/config map them to options", () => {
    const adapters = /^lib\/(bus|backlog|store|presence|ratelimit|redis|stomp|http|chat|signals)\//;
    expect(edges((from, to) => adapters.test(from) && !isTest(from) && to.startsWith("lib/config/"))).toEqual(
      [],
    );
  });
});

test("the checker finds a circle when there is one", () => {
  all.set("lib/__a.ts", ["lib/__b.ts"]);
  all.set("lib/__b.ts", ["lib/__a.ts"]);
  try {
    expect(cycles(["lib/__a.ts", "lib/__b.ts"])).toEqual([["lib/__a.ts", "lib/__b.ts", "lib/__a.ts"]]);
  } finally {
    all.delete("lib/__a.ts");
    all.delete("lib/__b.ts");
  }
});
