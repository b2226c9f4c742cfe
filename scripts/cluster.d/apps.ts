import { join } from "node:path";
import { lastLines, launch, pidRunning, probe } from "./procs.ts";
import { type ClusterProcess, type ClusterState, clusterPaths, type ProcessKind, REPO } from "./state.ts";

export type Say = (msg: string) => void;

/** Starts one app process of the cluster on its port; it is not ready until waitReady says so. */
export function spawnApp(
  state: ClusterState,
  kind: Exclude<ProcessKind, "nginx">,
  name: string,
  port: number,
) {
  const paths = clusterPaths(state.dir);
  const log = join(paths.logs, `${name}.log`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    ...state.env,
    HOST: "127.0.0.1",
    PORT: String(port),
    NODE_ID: `c${state.basePort}-${name}`,
    DATA_DIR: join(paths.data, name),
  };
  const pid = launch([process.execPath, `apps/${kind}/main.ts`], env, log, REPO);
  const p: ClusterProcess = { name, kind, pid, port, url: `http://127.0.0.1:${port}`, log };
  return p;
}

/**
 * Polls every process's /readyz until all answer 200, showing progress. Fails at once, with the end of
 * its log, when one exits; fails after `timeoutMs` otherwise.
 */
export async function waitReady(procs: ClusterProcess[], say: Say, timeoutMs = 90_000): Promise<void> {
  const started = performance.now();
  const waiting = new Set(procs);
  let lastReport = 0;
  const secs = () => ((performance.now() - started) / 1000).toFixed(1);
  while (waiting.size > 0) {
    await Promise.all(
      [...waiting].map(async (p) => {
        const res = await probe(`${p.url}/readyz`, 1_000);
        if (res?.ok) {
          waiting.delete(p);
          say(`${p.name} ready on :${p.port} (pid ${p.pid}) after ${secs()}s`);
          return;
        }
        // Just spawned: its command line may not show the entry yet, so only its pid is checked.
        if (!pidRunning(p.pid)) {
          throw new Error(
            `${p.name} (pid ${p.pid}) exited before it was ready; end of ${p.log}:\n${lastLines(p.log, 20)}`,
          );
        }
      }),
    );
    if (waiting.size === 0) break;
    const elapsed = performance.now() - started;
    if (elapsed > timeoutMs) {
      throw new Error(
        `not ready after ${secs()}s: ${[...waiting].map((p) => `${p.name} (log ${p.log})`).join(", ")}`,
      );
    }
    if (elapsed - lastReport >= 2_000) {
      lastReport = elapsed;
      say(`waiting for /readyz of ${[...waiting].map((p) => p.name).join(", ")} (${secs()}s)`);
    }
    await Bun.sleep(150);
  }
}
