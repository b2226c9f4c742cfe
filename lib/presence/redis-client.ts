/** The Redis connection of the presence reporter and view: the shared set-up, logging each outage once. */
import { errorFields, type Logger } from "../log/index.ts";
import { createRedisClient } from "../redis/client.ts";

export const DEFAULT_PREFIX = "presence:";

export function presenceClient(url: string, log: Logger, role: string) {
  const client = createRedisClient({ url });
  let down = false;
  client.on("error", (err: unknown) => {
    if (down) return;
    down = true;
    log("warn", "presence: redis unreachable", {
      role,
      ...errorFields(err),
    });
  });
  client.on("ready", () => {
    if (down) log("info", "presence: redis reachable again", { role });
    down = false;
  });
  return client;
}
