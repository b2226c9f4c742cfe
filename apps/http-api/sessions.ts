import type { SessionControlEvent } from "../../lib/chat/control.ts";
import { errorFields } from "../../lib/log/index.ts";
import type { RouteDeps } from "./context.ts";

/**
 * Tells every ws-node and presence-node to end the sessions an event names (logout, a reused refresh
 * token, a deleted account). The credential is already revoked in the store, so a node that misses
 * the event still refuses a reconnect at CONNECT; a bus outage only delays the close until the
 * access token expires, so it is logged rather than failing the request.
 */
export async function endSessions(
  d: Pick<RouteDeps, "bus" | "log">,
  event: SessionControlEvent,
): Promise<void> {
  try {
    await d.bus.publishControl(event);
  } catch (err) {
    d.log("warn", "sessions not ended: control event not published", {
      userId: event.userId,
      reason: event.reason,
      ...errorFields(err),
    });
  }
}
