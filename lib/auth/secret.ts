import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/index.ts";

/**
 * The key that signs access tokens: JWT_SECRET when configured. Otherwise (the embedded default) a
 * random 32-byte key made once and kept in `${DATA_DIR}/jwt-secret` (mode 0600), so restarts keep
 * tokens valid and the http-api and ws-node of one installation agree on it.
 */
export function resolveJwtSecret(config: Pick<Config, "JWT_SECRET" | "DATA_DIR">): Uint8Array {
  if (config.JWT_SECRET) return new TextEncoder().encode(config.JWT_SECRET);
  return persistentSecret(join(config.DATA_DIR, "jwt-secret"));
}

function readSecret(path: string): Uint8Array | null {
  try {
    const text = readFileSync(path, "utf8").trim();
    if (!text) return null;
    return new Uint8Array(Buffer.from(text, "base64url"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function persistentSecret(path: string): Uint8Array {
  const existing = readSecret(path);
  if (existing) return existing;
  mkdirSync(join(path, ".."), { recursive: true });
  // Written aside and hard-linked into place: link fails if another process got there first, and
  // nobody ever reads a half-written file.
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const secret = crypto.getRandomValues(new Uint8Array(32));
  writeFileSync(tmp, `${Buffer.from(secret).toString("base64url")}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, path);
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const winner = readSecret(path);
    if (!winner) throw new Error(`${path} exists but is empty`);
    return winner;
  } finally {
    unlinkSync(tmp);
  }
}
