/**
 * Every copy's latency, on the clock `perf` can record with (BENCH_LATENCY_DUMP=<file> in
 * bench/peers.ts): a chat step appends one line per copy it received to `<file>.<client pid>` — the
 * publish's time on CLOCK_MONOTONIC in ms, the copy's latency in ms, the publish's index in the step —
 * and a line `==` after the step. bench/support/tail-episodes.ts lays the slow copies over what each
 * core was running (`perf record -k CLOCK_MONOTONIC -e sched:sched_switch -a`).
 */
import { appendFileSync } from "node:fs";

const file = process.env.BENCH_LATENCY_DUMP;

/** CLOCK_MONOTONIC (ms) minus performance.now(): Linux through libc; 0 where it cannot be read. */
async function monotonicOffsetMs(): Promise<number> {
  try {
    const { dlopen, ptr } = await import("bun:ffi");
    const libc = dlopen("libc.so.6", { clock_gettime: { args: ["i32", "ptr"], returns: "i32" } });
    const CLOCK_MONOTONIC = 1;
    const ts = new BigInt64Array(2);
    let best = Number.POSITIVE_INFINITY;
    let offset = 0;
    // The tightest of many readings bracketed by performance.now(): good to a few microseconds.
    for (let k = 0; k < 50; k++) {
      const before = performance.now();
      libc.symbols.clock_gettime(CLOCK_MONOTONIC, ptr(ts));
      const after = performance.now();
      if (after - before < best) {
        best = after - before;
        offset = Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6 - (before + after) / 2;
      }
    }
    libc.close();
    return offset;
  } catch (err) {
    console.error(`latency dump: no CLOCK_MONOTONIC (${err}); times are performance.now()`);
    return 0;
  }
}

const offset = file ? await monotonicOffsetMs() : 0;

export class LatencyDump {
  private lines: string[] = [];

  static enabled(): boolean {
    return file !== undefined;
  }

  /** A copy of publish `index` (sent at `sentAt`, performance.now()) that took `latency` ms. */
  add(sentAt: number, latency: number, index: number): void {
    this.lines.push(`${(offset + sentAt).toFixed(3)} ${latency.toFixed(3)} ${index}`);
  }

  /** Appends the step's lines and its separator. */
  endStep(): void {
    if (!file) return;
    this.lines.push("==");
    appendFileSync(`${file}.${process.pid}`, `${this.lines.join("\n")}\n`);
    this.lines = [];
  }
}
