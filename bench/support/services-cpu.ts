/**
 * The processes of the local services that `scripts/services` started, found through its pid files,
 * so a benchmark can say how much CPU Kafka and the other services used while it ran.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { childPids, cpuSnapshot } from "./proc-cpu.ts";

/**
 * scripts/services keeps its pid files in .services/run of the checkout that started them: this one,
 * or, from a git worktree, the main checkout (the parent of the common .git directory).
 */
function runDir(): string {
  const repo = new URL("../..", import.meta.url).pathname;
  const local = join(repo, ".services/run");
  if (existsSync(local)) return local;
  const git = Bun.spawnSync(["git", "rev-parse", "--git-common-dir"], { cwd: repo });
  const common = git.stdout.toString().trim();
  return common ? join(dirname(resolve(repo, common)), ".services/run") : local;
}

const RUN_DIR = runDir();

async function pidOf(service: string): Promise<number | undefined> {
  const file = Bun.file(join(RUN_DIR, `${service}.pid`));
  if (!(await file.exists())) return undefined;
  const pid = Number((await file.text()).trim());
  return (await Bun.file(`/proc/${pid}/stat`).exists()) ? pid : undefined;
}

export interface ServicesCpu {
  /** True when the broker's process is known (Kafka started by scripts/services on this machine). */
  hasKafka: boolean;
  /** Per-process CPU ms so far: the broker, and Postgres (with its backends), FerretDB and Redis. */
  snapshot(): Promise<{ kafka: Map<number, number>; others: Map<number, number> }>;
}

export async function servicesCpu(): Promise<ServicesCpu> {
  const kafka = await pidOf("kafka");
  const postgres = await pidOf("postgres");
  const fixed = [await pidOf("ferretdb"), await pidOf("redis")].filter((p) => p !== undefined);
  return {
    hasKafka: kafka !== undefined,
    async snapshot() {
      // Postgres runs a backend process per connection: look for them anew each time.
      const others = [...fixed, ...(postgres ? [postgres, ...(await childPids(postgres))] : [])];
      return { kafka: await cpuSnapshot(kafka ? [kafka] : []), others: await cpuSnapshot(others) };
    },
  };
}
