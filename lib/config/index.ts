import { type Config, configSchema } from "./schema.ts";

export type { Config } from "./schema.ts";
export { configSchema } from "./schema.ts";

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`config: ${key}: ${reason}`);
  }
}

type Env = Record<string, string | undefined>;

/** Parse settings from an environment. Empty strings count as unset. Throws ConfigError on the first bad key. */
export function parseConfig(env: Env): Config {
  const keys = Object.keys(configSchema.shape);
  const input: Record<string, string> = {};
  for (const key of keys) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = String(issue.path[0] ?? "?");
  const got = input[key];
  const shown =
    got === undefined ? "" : ` (got ${JSON.stringify(got.length > 60 ? `${got.slice(0, 60)}…` : got)})`;
  throw new ConfigError(key, `${issue.message}${shown}`);
}

/** Parse the process environment once at start; on a bad value print one line naming the key and exit 1. */
export function loadConfig(env: Env = process.env): Config {
  try {
    return parseConfig(env);
  } catch (err) {
    return exitOnConfigError(err);
  }
}

/**
 * For a process entry point: a ConfigError (a bad setting, or settings that cannot serve this process)
 * becomes one line naming the key and exit 1; anything else is rethrown.
 */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
