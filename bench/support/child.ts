/**
 * A benchmark child process driven line by line: commands on its stdin, replies on its stdout.
 * stderr passes through so a failing child explains itself.
 */
import type { Subprocess } from "bun";

const BUN = process.execPath;

export class LineChild {
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  readonly exited: Promise<number>;

  private constructor(readonly proc: Subprocess<"pipe", "pipe", "inherit">) {
    this.exited = proc.exited;
    void this.pump();
  }

  /** `bun <script> ...args` with extra environment. */
  static spawn(script: string, args: string[], env: Record<string, string> = {}): LineChild {
    const proc = Bun.spawn([BUN, script, ...args], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      env: { ...process.env, ...env },
    });
    return new LineChild(proc);
  }

  get pid(): number {
    return this.proc.pid;
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
    this.proc.stdin.flush();
  }

  /** The next stdout line starting with `prefix` (earlier other lines are dropped), split on spaces. */
  async next(prefix: string, timeoutMs = 60_000): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const line = this.lines.shift()!;
        if (line.startsWith(`${prefix} `) || line === prefix) return line.split(" ").slice(1);
      }
      if (this.ended) throw new Error(`child ${this.pid} exited before printing "${prefix}"`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`child ${this.pid}: timed out waiting for "${prefix}"`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Asks it to exit, and kills it if it has not within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    try {
      this.send("exit");
    } catch {
      // stdin already closed: the kill below ends it.
    }
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    const reader = this.proc.stdout.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      partial += decoder.decode(value, { stream: true });
      const parts = partial.split("\n");
      partial = parts.pop()!;
      for (const p of parts) if (p) this.lines.push(p);
      this.wake();
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/** Kills a process (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
export async function killProcess(proc: Subprocess, graceMs = 5_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Resident set size of a process in KiB, from /proc/<pid>/status. */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");
