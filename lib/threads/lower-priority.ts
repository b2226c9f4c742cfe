import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The nice value background threads run at: the event loop wins a contended core about 9 times in 10. */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority (Linux: a thread has its own nice value, set by its
 * thread id). For worker threads whose work can wait a few milliseconds — SQLite writes and
 * checkpoints, the backlog writer, password hashing — and that otherwise take a core from the event
 * loop just when a burst of messages needs it: on a 2-core machine every delivery then waits behind
 * them. A nice value sets a thread's share of a contended core, not when the scheduler switches: in
 * W2 at 1,000 members (2026-12-02, Linux 6.18) the event loop still lost its core to the backlog's
 * append thread about 6 times a second, ~1 ms each. SCHED_IDLE would stop that, but starves the
 * thread while the cores are busy, and a thread set to it cannot be set back without privileges
 * (docs/benchmarks.md, the peers diagnosis). Returns the nice value now in force, or undefined where
 * threads cannot be told apart (not Linux) or the call is refused; the thread then runs as before.
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): number | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    // Only ever lowered: a thread already nicer (a process started with `nice`) keeps its value.
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
