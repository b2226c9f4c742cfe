/** A benchmark server as a child process on a free loopback port, ready once its health URL answers. */
import type { Subprocess } from "bun";
import { killProcess } from "./child.ts";

export interface ServerProcess {
  port: number;
  proc: Subprocess;
  stop(): Promise<void>;
}

export function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** Starts `command` with PORT (and `env`) set; resolves once GET <healthPath> answers 2xx. */
export async function startServer(
  command: string[],
  env: Record<string, string>,
  opts: { healthPath?: string; port?: number; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const port = opts.port ?? freePort();
  const proc = Bun.spawn(command, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdin: "ignore",
    stdout: 2,
    stderr: "inherit",
  });
  const deadline = performance.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${command.join(" ")} exited with ${proc.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}${opts.healthPath ?? "/healthz"}`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (performance.now() > deadline) {
      await killProcess(proc);
      throw new Error(`${command.join(" ")} never answered on port ${port}`);
    }
    await Bun.sleep(50);
  }
  // A generous grace: a server that stops cleanly also writes what it was asked to (e.g. a CPU profile).
  return { port, proc, stop: () => killProcess(proc, 30_000) };
}
