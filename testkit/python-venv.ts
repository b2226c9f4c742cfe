import { existsSync, mkdirSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where tests keep what they install once (virtualenvs), as scripts/services keeps its caches. */
export const TEST_CACHE = process.env.CHATTALK_CACHE_DIR ?? join(homedir(), ".cache/chattalk");

function run(cmd: string[], timeoutMs: number): { code: number | null; out: string } {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  return { code: p.exitCode, out: `${p.stdout.toString()}\n${p.stderr.toString()}` };
}

/**
 * A virtualenv under TEST_CACHE holding pinned PyPI packages (`name==version`), made on first use
 * with the machine's python3 (Debian's python3-venv); returns its directory. `installed` is a file of
 * the venv that the last package's install writes (its console script): present, nothing is done. A
 * failed install leaves nothing behind, so the next run tries again.
 */
export function ensureVenv(name: string, packages: readonly string[], installed: string): string {
  const venv = join(TEST_CACHE, name);
  if (existsSync(join(venv, installed))) return venv;
  mkdirSync(TEST_CACHE, { recursive: true });
  rmSync(venv, { recursive: true, force: true });
  const steps = [
    ["python3", "-m", "venv", venv],
    [join(venv, "bin/pip"), "install", "--quiet", "--disable-pip-version-check", ...packages],
  ];
  for (const step of steps) {
    const r = run(step, 300_000);
    if (r.code !== 0) {
      rmSync(venv, { recursive: true, force: true });
      throw new Error(`installing ${packages.join(" ")} failed: ${step.join(" ")}\n${r.out}`);
    }
  }
  return venv;
}
