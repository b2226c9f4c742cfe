import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TOOL = new URL("./tail-episodes.ts", import.meta.url).pathname;
const SERVER = 100;
const CLIENT = 200;

/** A `perf script` line: `next` starts running on `cpu` at `ms`, the previous task in `prevState`. */
const sw = (cpu: number, ms: number, next: string, pid: number, prevPid = 1, prevState = "S") =>
  `  x 1 [00${cpu}] ${(ms / 1e3).toFixed(6)}: sched:sched_switch: prev_comm=x prev_pid=${prevPid} prev_prio=120 prev_state=${prevState} ==> next_comm=${next} next_pid=${pid} next_prio=120`;

test("finds the slow copies' episode and names the thread that held the core", () => {
  const dir = mkdtempSync(join(tmpdir(), "tail-episodes-"));
  try {
    // cpu0: the event loop runs, then a Worker preempts it for 1,000-1,005 ms, then the event loop again.
    // cpu1: the client, then idle.
    const sched = [
      sw(0, 0, "bun.exe", SERVER),
      sw(1, 0, "bun.exe", CLIENT),
      sw(1, 500, "swapper/1", 0),
      sw(0, 1_000, "Worker", 7, SERVER, "R"),
      sw(0, 1_005, "bun.exe", SERVER),
      sw(0, 2_000, "swapper/0", 0),
      sw(1, 2_000, "swapper/1", 0),
    ];
    writeFileSync(join(dir, "sched.txt"), `${sched.join("\n")}\n`);
    // 300 copies at 0.3 ms, sent every 5 ms from 10 ms on, and 3 sent at 1,000-1,002 ms that took
    // 5.0-5.5 ms: the p99 is 0.3 ms, and only those 3, arriving together, are above it.
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(`${10 + i * 5 + 0.1} 0.300 ${i}`);
    lines.push("1000.500 5.500 300", "1001.000 5.000 301", "1001.500 5.200 302", "==");
    writeFileSync(join(dir, `lat.${CLIENT}`), `${lines.join("\n")}\n`);

    const run = Bun.spawnSync(
      [
        process.execPath,
        TOOL,
        join(dir, "sched.txt"),
        join(dir, `lat.${CLIENT}`),
        "--server",
        String(SERVER),
      ],
      { stderr: "pipe" },
    );
    const out = run.stdout.toString();
    expect(run.exitCode).toBe(0);
    expect(out).toContain("1 episodes");
    expect(out).toContain("1  another thread: Worker");
    // The window runs from 0.3 ms before the first slow publish (1,000.2 ms) to the last arrival.
    expect(out).toContain("cpu0: Worker 4.8 · EVENT-LOOP 1.7");
    expect(out).toContain("cpu1: idle 6.5");
    expect(out).toContain("the event loop was preempted for 5 ms in all");
    expect(out).toMatch(/5\.0 ms +1 times \(5\.00 ms each\) +Worker/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
