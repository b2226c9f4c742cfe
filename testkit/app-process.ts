import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface AppProcess {
  url: string;
  proc: Subprocess;
  dataDir: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

const SERVICE_URLS = ["KAFKA_BROKERS", "DATABASE_URL", "MONGO_URL", "REDIS_URL"];

/**
 * Runs an entry point (default: the one-process app) as a child process and waits until /readyz
 * answers; throws if it exits first. `cwd` is the checkout (or image folder) it runs in. `embedded`
 * drops the service URLs from the environment: the app then runs on its embedded adapters with
 * everything in its own DATA_DIR.
 */
export async function startAppProcess(
  entry = "apps/main.ts",
  env: Record<string, string> = {},
  cwd = process.cwd(),
  opts: { embedded?: boolean } = {},
): Promise<AppProcess> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), "chattalk-app-"));
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const inherited = { ...process.env };
  if (opts.embedded) for (const k of SERVICE_URLS) delete inherited[k];
  const proc = Bun.spawn(["bun", entry], {
    cwd,
    env: { ...inherited, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: "warn", ...env },
    stdout: "inherit",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill();
      throw new Error(`${entry} did not become ready (exit ${proc.exitCode})`);
    }
    await Bun.sleep(50);
  }
  return {
    url,
    proc,
    dataDir,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
