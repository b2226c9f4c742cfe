/**
 * Preloaded into a server under test (`bun --preload bench/support/loop-stalls.ts`, BENCH_STALLS=<file>
 * in bench/peers.ts): a 1 ms interval measures how late each tick comes — the event loop blocked, or the
 * process not scheduled — and, every second, appends one JSON line to the file named by LOOP_STALLS_FILE:
 * the second's tick count, the drift's p50/p99/max and how many ticks came ≥ 5 / 20 / 50 ms late.
 */
import { appendFileSync } from "node:fs";

const file = process.env.LOOP_STALLS_FILE;
if (file) {
  let last = performance.now();
  let drifts: number[] = [];
  let windowStart = last;
  const report = (now: number) => {
    drifts.sort((a, b) => a - b);
    const at = (q: number) => drifts[Math.min(drifts.length - 1, Math.floor(q * drifts.length))] ?? 0;
    const over = (ms: number) => drifts.filter((d) => d >= ms).length;
    const line = {
      t: Math.round(now),
      ticks: drifts.length,
      p50: +at(0.5).toFixed(2),
      p99: +at(0.99).toFixed(2),
      max: +(drifts[drifts.length - 1] ?? 0).toFixed(2),
      over5: over(5),
      over20: over(20),
      over50: over(50),
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    drifts = [];
    windowStart = now;
  };
  setInterval(() => {
    const now = performance.now();
    drifts.push(Math.max(0, now - last - 1));
    last = now;
    if (now - windowStart >= 1_000) report(now);
  }, 1).unref();
}
