import { describe, expect, test } from "bun:test";
import { createRequire } from "node:module";
import { scheduleCheckPendingRequests } from "./kafka-request-queue.ts";

function queue(pending: number, throttledUntil: number) {
  const q = {
    pending: Array.from({ length: pending }),
    throttledUntil,
    throttleCheckTimeoutId: null as ReturnType<typeof setTimeout> | null,
    checks: 0,
    checkPendingRequests() {
      q.checks++;
    },
    scheduleCheckPendingRequests,
  };
  return q;
}

describe("kafkajs request queue timer", () => {
  test("nothing pending and no throttle: no timer (kafkajs armed a 1 ms one, forever)", () => {
    const q = queue(0, -1);
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  test("requests waiting on the in-flight limit are checked again after 10 ms", async () => {
    const q = queue(2, -1);
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    await Bun.sleep(40);
    expect(q.checks).toBe(1);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  test("a throttle is waited out, once, even with nothing pending", async () => {
    const q = queue(0, Date.now() + 60);
    q.scheduleCheckPendingRequests();
    q.scheduleCheckPendingRequests();
    await Bun.sleep(20);
    expect(q.checks).toBe(0);
    await Bun.sleep(100);
    expect(q.checks).toBe(1);
  });

  test("the fix is installed on the RequestQueue that kafkajs itself uses", async () => {
    await import("./kafka-support.ts");
    const require = createRequire(import.meta.url);
    const RequestQueue = require("kafkajs/src/network/requestQueue/index.js");
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).toBe(scheduleCheckPendingRequests);
  });
});
