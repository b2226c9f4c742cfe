import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Docker cannot run here, so the app image is rebuilt the way docker/Dockerfile describes it, as far
 * as a folder can be: the `web` stage's build command is run, and the `app` stage's COPY and ENV lines
 * are replayed into a folder whose node_modules holds the production dependencies only (what
 * `npm ci --omit=dev` installs, from package-lock.json). Its CMD must then start and serve the client.
 */
const repo = join(import.meta.dir, "..");
const dockerfile = readFileSync(join(repo, "docker/Dockerfile"), "utf8");

/** Each stage's instructions, by stage name, with line continuations joined and comments dropped. */
function stages(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const from = /^FROM\s+\S+\s+AS\s+(\S+)$/i.exec(trimmed);
    if (from) {
      current = [];
      out.set(from[1]!, current);
    } else current.push(trimmed);
  }
  return out;
}

const stage = stages(dockerfile);
const work = mkdtempSync(join(tmpdir(), "chattalk-image-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** node_modules with the lock file's non-dev top-level packages, linked from the repository's. */
function productionModules(target: string): void {
  const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  for (const [path, meta] of Object.entries(lock.packages)) {
    if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) || meta.dev) continue;
    const link = join(target, path.slice("node_modules/".length));
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(repo, path), link);
  }
}

/** The `app` stage replayed into `root`: its COPY lines (from the context or from the given stages) and ENV. */
function replayApp(root: string, fromStage: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  const inImage = (p: string) => (p.startsWith("/app") ? join(root, p.slice("/app".length)) : join(root, p));
  for (const line of stage.get("app") ?? []) {
    const copy = /^COPY\s+(?:--from=(\S+)\s+)?(.+)$/i.exec(line);
    if (copy) {
      const args = copy[2]!.split(/\s+/);
      const dest = args.pop()!;
      for (const src of args) {
        const into = dest.endsWith("/") ? join(inImage(dest), src.split("/").pop()!) : inImage(dest);
        mkdirSync(dirname(into), { recursive: true });
        if (copy[1] === "deps") productionModules(into);
        else if (copy[1]) cpSync(fromStage[copy[1]]!, into, { recursive: true });
        else cpSync(join(repo, src), into, { recursive: true });
      }
    }
    const setEnv = /^ENV\s+(.+)$/i.exec(line);
    if (setEnv) for (const pair of setEnv[1]!.split(/\s+/)) env[pair.split("=")[0]!] = pair.split("=")[1]!;
  }
  return env;
}

async function start(
  cwd: string,
  env: Record<string, string>,
): Promise<{ url: string; stop(): void; exited: Promise<number> }> {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  const cmd = JSON.parse(/^CMD\s+(\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  const proc = Bun.spawn([process.execPath, ...cmd.slice(1)], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: work,
      ...env,
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "silent",
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => proc.kill(), exited: proc.exited };
}

async function ready(url: string, exited: Promise<number>, timeoutMs = 20_000): Promise<boolean> {
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (!done && Date.now() < deadline) {
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return true;
    await Bun.sleep(50);
  }
  return false;
}

describe("the app image", () => {
  test("the Dockerfile builds the web client and the app stage serves that build", () => {
    expect(stage.get("web")).toContain("RUN bun apps/web/serve.ts /web");
    expect(stage.get("app")).toContain("COPY --from=web /web ./web");
    expect(stage.get("app")).toContain("ENV WEB_DIR=/app/web");
    expect(stage.get("app")!.some((l) => l.includes("npm ci"))).toBe(false);
    expect(stage.get("deps")).toContain("RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund");
  });

  test("alone, with production dependencies only, it starts the one-process app and serves the client", async () => {
    const web = join(work, "web-stage");
    const build = Bun.spawnSync([process.execPath, "apps/web/serve.ts", web], { cwd: repo, stderr: "pipe" });
    expect(build.exitCode).toBe(0);
    const root = join(work, "app");
    mkdirSync(root, { recursive: true });
    const env = replayApp(root, { web });
    expect(env.WEB_DIR).toBe("/app/web");
    const withPaths = { ...env, WEB_DIR: join(root, "web"), DATA_DIR: join(work, "data") };

    const app = await start(root, withPaths);
    try {
      expect(await ready(app.url, app.exited)).toBe(true);
      const js = await fetch(`${app.url}/app.js`);
      expect(js.status).toBe(200);
      expect(await js.text()).toBe(readFileSync(join(web, "app.js"), "utf8"));
      expect((await fetch(`${app.url}/`)).headers.get("content-type")).toStartWith("text/html");
    } finally {
      app.stop();
      await app.exited;
    }

    // Without the prebuilt client the same image cannot start: bundling needs a devDependency.
    const bare = await start(root, { ...withPaths, WEB_DIR: "" });
    const started = await ready(bare.url, bare.exited, 10_000);
    bare.stop();
    expect(started).toBe(false);
  }, 60_000);
});
