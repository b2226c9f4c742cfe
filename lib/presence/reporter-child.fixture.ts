/**
 * A messaging node's presence reporter as its own process, for the test that kills it with SIGKILL.
 * Env: REDIS_URL, PRESENCE_PREFIX, NODE_ID, NODE_TTL_MS, ROOM_ID, USERS (comma-separated names).
 * Prints "ready" once its users are reported, then waits to be killed.
 */
import { silentLogger } from "../log/index.ts";
import { RedisPresenceReporter } from "./redis.ts";

const env = (key: string): string => {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is required`);
  return value;
};

const reporter = new RedisPresenceReporter({
  url: env("REDIS_URL"),
  prefix: env("PRESENCE_PREFIX"),
  nodeId: env("NODE_ID"),
  nodeTtlMs: Number(env("NODE_TTL_MS")),
  log: silentLogger,
});
await reporter.start();
for (const name of env("USERS").split(","))
  reporter.add(env("ROOM_ID"), { id: `u-${name}`, username: name }, `conn-${name}`);
process.stdout.write("ready\n");
setInterval(() => {}, 60_000);
