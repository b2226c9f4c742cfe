import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Subprocess } from "bun";
import type { ClusterProcess, ClusterState } from "./state.ts";

/** The word a process's command line must contain to still be ours (pids get recycled). */
export function marker(p: Pick<ClusterProcess, "kind">): string {
  return p.kind === "nginx" ? "nginx" : `apps/${p.kind}/main.ts`;
}

/** True while the process lives and is still the one we started (a zombie's cmdline is empty). */
export function isAlive(p: Pick<ClusterProcess, "pid" | "kind">): boolean {
  try {
    return readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0").join(" ").includes(marker(p));
  } catch {
    return false;
  }
}

/** True while the pid exists and is not a zombie, whatever it runs (for a process we just started). */
export function pidRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * Starts a long-lived process in its own session (a signal to its parent's group does not reach it,
 * and it outlives its parent), appending stdout and stderr to `log`.
 */
export function launch(cmd: string[], env: Record<string, string>, log: string, cwd: string): Subprocess {
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, "a");
  try {
    return Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: fd, stderr: fd, detached: true });
  } finally {
    closeSync(fd);
  }
}

/** Appends one JSON line to a process's log, in the apps' own format, so the log tells its story. */
export function appendLogLine(
  log: string,
  level: string,
  msg: string,
  fields: Record<string, unknown>,
): void {
  mkdirSync(dirname(log), { recursive: true });
  appendFileSync(log, `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

/** SIGTERM (or `signal`), then waits for the exit; SIGKILL after `graceMs`. Resolves true on a clean exit. */
export async function stopProcess(
  p: Pick<ClusterProcess, "pid" | "kind">,
  graceMs: number,
  signal: NodeJS.Signals = "SIGTERM",
) {
  if (!isAlive(p)) return true;
  try {
    process.kill(p.pid, signal);
  } catch {
    return true;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(p)) {
    if (Date.now() > deadline) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {}
      while (isAlive(p)) await Bun.sleep(50);
      return false;
    }
    await Bun.sleep(50);
  }
  return true;
}

/** One GET with a short timeout; undefined when nothing answered. */
export async function probe(url: string, timeoutMs = 2_000): Promise<Response | undefined> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return undefined;
  }
}

export function lastLines(file: string, n: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

export async function portFree(port: number): Promise<boolean> {
  try {
    const s = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** True while the supervisor recorded in the state runs (its pid, still running supervisor.ts). */
export function supervisorAlive(state: ClusterState | undefined): boolean {
  const pid = state?.supervisor?.pid;
  if (!pid) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("cluster.d/supervisor.ts");
  } catch {
    return false;
  }
}
