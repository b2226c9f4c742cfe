/**
 * Waits until a client process's subscriptions are live. A server may hold live messages back while
 * it replays what a new subscriber missed (ChatTalk does, reading its backlog): a workload measured
 * before that ends would time the replay. So short chat steps run until the subscriptions deliver
 * like live ones: every copy of `STEPS_LIVE` steps in a row arrived, and the latest step's slowest copy
 * either came within a second or no longer comes sooner step by step. A held replay shows as a
 * slowest copy that falls from one step to the next once the hold ends; a machine too busy to
 * deliver within a second shows as one that stays level. (Asking only for "within a second" made the
 * cluster benchmark give up after two minutes on a saturated machine with every subscription long
 * live: its copies all arrived, just more slowly.)
 */
import type { LineChild } from "../support/child.ts";

/** Steps in a row with every copy delivered. */
const STEPS_LIVE = 3;
/** The latest step's slowest copy at least this share of the one before: no longer falling. */
const LEVEL = 0.8;

export interface Settled {
  steps: number;
  /** The slowest copy of the last step, ms. */
  maxMs: number;
}

/** True when these steps (oldest first: every copy arrived?, slowest copy ms) show live subscriptions. */
export function isSettled(steps: readonly { complete: boolean; maxMs: number }[]): boolean {
  const recent = steps.slice(-STEPS_LIVE);
  if (recent.length < 1 || !recent.every((s) => s.complete)) return false;
  const last = recent.at(-1)!;
  if (last.maxMs < 1_000) return true;
  return recent.length === STEPS_LIVE && last.maxMs >= LEVEL * recent.at(-2)!.maxMs;
}

export async function settle(clients: LineChild, rate: number, timeoutMs = 120_000): Promise<Settled> {
  const deadline = performance.now() + timeoutMs;
  const steps: { complete: boolean; maxMs: number }[] = [];
  for (;;) {
    clients.send(`chat ${rate} 1000`);
    const [, , expected, received, , , , max, errors] = (await clients.next("chat", 60_000)).map(Number);
    if (errors! > 0) throw new Error(`${errors} errors while settling`);
    steps.push({ complete: received === expected, maxMs: max! });
    if (isSettled(steps)) return { steps: steps.length, maxMs: max! };
    if (performance.now() > deadline) {
      const last = steps.at(-1)!;
      throw new Error(
        `subscriptions not live after ${timeoutMs} ms (last step: ${received} of ${expected} copies, slowest ${last.maxMs.toFixed(0)} ms)`,
      );
    }
  }
}
