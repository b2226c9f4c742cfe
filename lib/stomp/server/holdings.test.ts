import { describe, expect, test } from "bun:test";
import { StompError } from "./errors.ts";
import { connectionLedger, type HoldLimits, userLedger } from "./holdings.ts";

/** The details of the StompError `f` throws. */
function refusal(f: () => void): string {
  try {
    f();
  } catch (err) {
    if (err instanceof StompError) return `${err.message}: ${err.details}`;
    throw err;
  }
  return "accepted";
}

const limits: HoldLimits = {
  queued: { perConnection: { count: 4, bytes: 100 }, perUser: { count: 6, bytes: 150 } },
  transactions: { perConnection: { count: 3, bytes: 1000 }, perUser: { count: 5, bytes: 1000 } },
  subscriptions: { perConnection: { count: 2, bytes: 1000 }, perUser: { count: 3, bytes: 1000 } },
  pendingAcks: { perConnection: { count: 10, bytes: 80 }, perUser: { count: 10, bytes: 80 } },
};

describe("HoldLedger", () => {
  test("refuses past a connection's count or bytes, naming the bound, and holds nothing more", () => {
    const c = connectionLedger(limits);
    c.take("queued", 3, 90);
    expect(() => c.take("queued", 1, 11)).toThrow("limit exceeded: frames in flight");
    expect(refusal(() => c.take("queued", 2, 1))).toContain(
      "at most 4 frames in flight and 100 bytes per connection",
    );
    expect(c.usage("queued")).toEqual({ count: 3, bytes: 90 });
    c.release("queued", 3, 90);
    expect(c.usage("queued")).toEqual({ count: 0, bytes: 0 });
  });

  test("a user's connections share the user's bound", () => {
    const user = userLedger(limits);
    const a = connectionLedger(limits);
    const b = connectionLedger(limits);
    a.attach(user);
    b.attach(user);
    a.take("transactions", 3, 10);
    b.take("transactions", 2, 10);
    expect(b.tryTake("transactions", 1, 1)).toBe(false);
    expect(refusal(() => b.take("transactions", 1, 1))).toContain("per user on this node");
    expect(user.usage("transactions")).toEqual({ count: 5, bytes: 20 });
    a.release("transactions", 1, 5);
    expect(b.tryTake("transactions", 1, 1)).toBe(true);
  });

  test("attaching brings what was held before authentication; closing gives everything back", () => {
    const user = userLedger(limits);
    const c = connectionLedger(limits);
    c.take("queued", 2, 40);
    c.attach(user);
    expect(user.usage("queued")).toEqual({ count: 2, bytes: 40 });
    c.take("subscriptions", 2, 300);
    c.close();
    expect(user.usage("queued")).toEqual({ count: 0, bytes: 0 });
    expect(user.usage("subscriptions")).toEqual({ count: 0, bytes: 0 });
    // After close, late releases (a drain finishing) do not drive the user's ledger negative.
    c.release("queued", 2, 40);
    expect(user.usage("queued")).toEqual({ count: 0, bytes: 0 });
  });
});
