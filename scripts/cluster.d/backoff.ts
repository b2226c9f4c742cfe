/**
 * When to start a crashed process again: at once-ish after a crash that follows a long run, doubling
 * with each quick crash in a row, so a crash loop (a bad setting, a port taken) costs little and
 * does not flood the log, while a one-off crash heals in half a second.
 */
export const BACKOFF = {
  firstMs: 500,
  maxMs: 30_000,
  /** A process that ran this long before it exited starts the count afresh. */
  stableAfterMs: 30_000,
};

/** Quick crashes in a row, counting the one that just happened. */
export function crashesInARow(previous: number, ranMs: number): number {
  return ranMs >= BACKOFF.stableAfterMs ? 1 : previous + 1;
}

/** Delay before the next start after `crashes` quick crashes in a row (1 → first delay). */
export function restartDelayMs(crashes: number): number {
  const n = Math.max(1, crashes);
  return Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** Math.min(n - 1, 16));
}
