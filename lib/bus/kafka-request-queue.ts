/**
 * A fix for kafkajs 2.2.4's request queue, applied once per process on import.
 *
 * After every response, `RequestQueue.scheduleCheckPendingRequests` arms a timer for
 * `throttledUntil - Date.now()`; with nothing pending and no throttling that is a large negative
 * delay, which the runtime clamps to 1 ms. The timer's callback schedules the next one the same
 * way, so every broker connection that has ever had a reply spins a 1 ms timer for good: about
 * 6,000 timers a second in an idle ws-node, and a `TimeoutNegativeWarning` in plain text on stderr
 * ahead of the JSON log. The timer is only needed while requests wait (a new request or a reply
 * checks the queue anyway), so here it is armed only then: at the end of the throttle, or after
 * kafkajs's own 10 ms when requests wait on the in-flight limit.
 */
import { createRequire } from "node:module";

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
const RECHECK_MS = 10;

export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId) return;
  const throttledFor = this.throttledUntil - Date.now();
  if (this.pending.length === 0 && throttledFor <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttledFor > 0 ? throttledFor : RECHECK_MS,
  );
}

const require = createRequire(import.meta.url);
const RequestQueue = require("kafkajs/src/network/requestQueue/index.js") as {
  prototype: RequestQueueLike;
};
if (typeof RequestQueue.prototype.scheduleCheckPendingRequests !== "function") {
  throw new Error("kafkajs's RequestQueue changed: review lib/bus/kafka-request-queue.ts");
}
RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
