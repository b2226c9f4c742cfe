import { withTimeout } from "../async/timeout.ts";
import { errorFields, type Logger } from "../log/index.ts";
import { CloseCode, RefusedError } from "../stomp/server/errors.ts";

/** How long a STOMP frame waits on the user/room store before it is refused. */
export const STORE_WAIT_MS = 5_000;
/** How long a refused client is asked to wait before it tries again. */
export const STORE_RETRY_AFTER_MS = 2_000;

/** The refusal a client gets while the store is down: retry later, the connection itself is fine. */
export function storeUnavailable(): RefusedError {
  return new RefusedError(
    "store_unavailable",
    "the room store is unavailable; retry shortly",
    { retryAfterMs: STORE_RETRY_AFTER_MS },
    CloseCode.tryAgainLater,
  );
}

/**
 * A call to the user/room store (Postgres) made for a STOMP frame: SUBSCRIBE's membership check, a
 * SEND to a room not subscribed on the connection, a presence roster. When the store fails or does not
 * answer within STORE_WAIT_MS the frame is refused with `store_unavailable` and a retry hint (a notice,
 * or ERROR and close 1013), never an "internal error"; the chat and presence nodes share this.
 */
export async function fromStore<T>(call: Promise<T>, log: Logger, what: string): Promise<T> {
  try {
    return await withTimeout(call, STORE_WAIT_MS, `store: ${what}`);
  } catch (err) {
    log("warn", "store unavailable; frame refused", { what, ...errorFields(err) });
    throw storeUnavailable();
  }
}
