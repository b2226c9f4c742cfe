import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveJwtSecret } from "./secret.ts";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-secret-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("resolveJwtSecret", () => {
  test("uses JWT_SECRET when configured and writes nothing", () => {
    const dir = freshDir();
    const secret = resolveJwtSecret({ JWT_SECRET: "x".repeat(40), DATA_DIR: dir });
    expect(new TextDecoder().decode(secret)).toBe("x".repeat(40));
    expect(() => statSync(join(dir, "jwt-secret"))).toThrow();
  });

  test("otherwise generates 32 bytes once, mode 0600, and returns the same on later calls", () => {
    const dir = join(freshDir(), "nested");
    const first = resolveJwtSecret({ JWT_SECRET: undefined, DATA_DIR: dir });
    expect(first.length).toBe(32);
    expect(statSync(join(dir, "jwt-secret")).mode & 0o777).toBe(0o600);
    const second = resolveJwtSecret({ JWT_SECRET: undefined, DATA_DIR: dir });
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });

  test("different data directories get different secrets", () => {
    const a = resolveJwtSecret({ JWT_SECRET: undefined, DATA_DIR: freshDir() });
    const b = resolveJwtSecret({ JWT_SECRET: undefined, DATA_DIR: freshDir() });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });
});
