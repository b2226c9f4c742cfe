/**
 * Places of a benchmark's own on the shared real services, never their defaults (topic chattalk.rooms,
 * database chattalk): a Postgres database created and dropped per run, and the Redis database index
 * the benchmarks use (their keys are per run and expire).
 */
import postgres from "postgres";

/** Redis database index of the benchmarks' ChatTalk processes (presence, login limits). */
export const BENCH_REDIS_DB = 11;

/** The same server's URL with another path: a database (Postgres) or a database index (Redis). */
export function withPath(url: string, path: string): string {
  const u = new URL(url);
  u.pathname = `/${path}`;
  return u.toString();
}

export function benchRedisUrl(url: string): string {
  return withPath(url, String(BENCH_REDIS_DB));
}

/** Creates database `name` next to the one `url` names; resolves with its URL and a dropper. */
export async function freshDatabase(
  url: string,
  name: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  return {
    url: withPath(url, name),
    async drop() {
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch (err) {
        console.error(`bench: database ${name} not dropped: ${String(err)}`);
      } finally {
        await admin.end();
      }
    },
  };
}
