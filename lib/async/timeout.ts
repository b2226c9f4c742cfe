/** Bounded waits: every wait on a backend in ChatTalk goes through one of these two. */

export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/**
 * Settles like `promise`, or rejects once `ms` have passed: with a TimeoutError naming `what`, or with
 * the error `what` makes (a port's own "unavailable" error). The timer is cleared either way.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string | (() => Error),
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(typeof what === "string" ? new TimeoutError(`${what} timed out after ${ms} ms`) : what()),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for `promise` to settle, but at most `ms`; never rejects. For a start-up that may carry on
 * without what it waits for (a first connection): its failure is reported where it is handled.
 */
export async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = promise.then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([settled, new Promise<void>((done) => (timer = setTimeout(done, ms)))]);
  clearTimeout(timer);
}
