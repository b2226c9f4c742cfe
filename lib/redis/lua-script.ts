import type { RedisClient } from "./client.ts";

const sha1 = (source: string) => new Bun.CryptoHasher("sha1").update(source).digest("hex");

/**
 * A Lua script run by its SHA (EVALSHA), sent whole only when Redis does not know it (NOSCRIPT): on
 * first use and after a restart. One round trip in the usual case, atomic always.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = sha1(source);
  }

  async run(client: RedisClient, args: string[], keys: string[] = []): Promise<unknown> {
    const options = { keys, arguments: args };
    try {
      return await client.evalSha(this.sha, options);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return client.eval(this.source, options);
    }
  }
}
