import { configSchema } from "../../lib/config/index.ts";
import { REPO } from "./state.ts";

/** Set per process by the cluster, never shared. */
const PER_PROCESS = new Set(["HOST", "PORT", "DATA_DIR", "NODE_ID"]);

/** Parses `export KEY=value` lines (the output of `scripts/services env`). */
export function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1");
  }
  return env;
}

/** `scripts/services up` (progress on our stderr), then its URLs. */
export function servicesUp(): Record<string, string> {
  const up = Bun.spawnSync(["bash", `${REPO}/scripts/services`, "up"], {
    stderr: "inherit",
    stdout: "inherit",
  });
  if (up.exitCode !== 0) throw new Error("scripts/services up failed (see above)");
  const env = Bun.spawnSync(["bash", `${REPO}/scripts/services`, "env"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  if (env.exitCode !== 0) throw new Error("scripts/services env failed");
  return parseExports(env.stdout.toString());
}

/**
 * The environment every app process of the cluster shares: the services' URLs, then every ChatTalk
 * setting from the caller's environment (so `SEND_RATE_PER_SEC=50 scripts/cluster up` works), a JWT
 * secret shared by all, and TRUST_PROXY since nginx is in front.
 */
export function sharedEnv(
  services: Record<string, string>,
  caller: Record<string, string | undefined>,
  secret: () => string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["DATABASE_URL", "REDIS_URL", "KAFKA_BROKERS", "MONGO_URL"]) {
    if (services[key]) env[key] = services[key];
  }
  for (const key of Object.keys(configSchema.shape)) {
    const v = caller[key];
    if (v !== undefined && v !== "" && !PER_PROCESS.has(key)) env[key] = v;
  }
  env.JWT_SECRET ??= secret();
  env.TRUST_PROXY = "true";
  return env;
}

export function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(36))).toString("base64url");
}
