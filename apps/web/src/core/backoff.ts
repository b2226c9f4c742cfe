/** Reconnect delays: exponential from `baseMs`, capped at `capMs`, with jitter so clients spread out. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/**
 * The wait before retry number `attempt` (0-based): half of the exponential step plus a random part
 * of the other half ("equal jitter"), so a thousand clients cut off at once do not return at once,
 * yet none retries sooner than half the step.
 */
export function backoffDelay(attempt: number, opts = RECONNECT_BACKOFF, random = Math.random): number {
  const step = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}
