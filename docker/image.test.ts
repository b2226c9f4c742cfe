import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startAppProcess } from "../testkit/app-process.ts";

/**
 * Docker cannot run here, so the app image is rebuilt the way docker/Dockerfile describes it, as far
 * as a folder can be: the `web` stage's build command is run, and the `app` stage's COPY and ENV lines
 * are replayed into a folder whose node_modules holds the production dependencies only (what
 * `npm ci --omit=dev` installs, from package-lock.json). Its CMD must then start and serve the client,
 * from the build or, without it, by bundling it at start.
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

/** The image has none of the test run's service URLs. */
const noServices = { KAFKA_BROKERS: "", DATABASE_URL: "", MONGO_URL: "", REDIS_URL: "", NGINX_URL: "" };

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
    const cmd = JSON.parse(/^CMD\s+(\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd.slice(0, 1)).toEqual(["bun"]);
    const { PORT: _port, ...fromImage } = env;
    const imageEnv = {
      ...fromImage,
      ...noServices,
      HOST: "127.0.0.1",
      WEB_DIR: join(root, "web"),
      DATA_DIR: join(work, "data"),
      LOG_LEVEL: "silent",
    };

    const built = readFileSync(join(web, "index.html"), "utf8");
    const script = /src="(\/app\.[0-9a-z]+\.js)"/.exec(built)![1]!;
    const app = await startAppProcess(cmd[1], imageEnv, root);
    try {
      const js = await fetch(`${app.url}${script}`);
      expect(js.status).toBe(200);
      expect(await js.text()).toBe(readFileSync(join(web, script), "utf8"));
      const page = await fetch(`${app.url}/`);
      expect(page.headers.get("content-type")).toStartWith("text/html");
      expect(await page.text()).toBe(built);
      // A room's URL (a reload, a deep link) is the app too.
      expect(await (await fetch(`${app.url}/rooms/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b`)).text()).toBe(built);
    } finally {
      await app.stop();
    }
    // Without the prebuilt client the image still starts: the client's libraries are production
    // dependencies, so it bundles the same client itself.
    const bundling = await startAppProcess(cmd[1], { ...imageEnv, WEB_DIR: "" }, root);
    try {
      expect(await (await fetch(`${bundling.url}/`)).text()).toBe(built);
    } finally {
      await bundling.stop();
    }
  }, 60_000);
});
