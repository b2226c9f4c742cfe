import { describe, expect, test } from "bun:test";
import { ReplayGate, type ReplayTicket } from "./replay-gate.ts";

/** A read that finishes when the test says so. */
function controllable() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { done, finish };
}

const pace = { userBytesPerSec: 1_000_000, burstBytes: 100_000 };

const ticket = (t: ReturnType<ReplayGate["admit"]>): ReplayTicket => {
  if (typeof t === "string") throw new Error(`refused: ${t}`);
  return t;
};

describe("ReplayGate", () => {
  test("at most `concurrency` reads run at once; the others run in arrival order", async () => {
    const gate = new ReplayGate({ concurrency: 2, perConnection: 10, perUser: 10, ...pace });
    const started: number[] = [];
    const reads = Array.from({ length: 5 }, () => controllable());
    const runs = reads.map((r, i) =>
      ticket(gate.admit(`c${i}`, `u${i}`)).read(async () => {
        started.push(i);
        await r.done;
        return i;
      }),
    );
    await Bun.sleep(1);
    expect(started).toEqual([0, 1]);
    expect(gate.stats).toMatchObject({ running: 2, waiting: 3 });
    reads[1]!.finish();
    await Bun.sleep(1);
    expect(started).toEqual([0, 1, 2]);
    reads[0]!.finish();
    reads[2]!.finish();
    await Bun.sleep(1);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    reads[3]!.finish();
    reads[4]!.finish();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(gate.stats).toMatchObject({ running: 0, waiting: 0 });
  });

  test("a failed read passes its turn on too", async () => {
    const gate = new ReplayGate({ concurrency: 1, perConnection: 10, perUser: 10, ...pace });
    const t = ticket(gate.admit("c", "u"));
    const failing = t.read(async () => {
      await Bun.sleep(1);
      throw new Error("backlog down");
    });
    const next = t.read(async () => "ok");
    await expect(failing).rejects.toThrow("backlog down");
    expect(await next).toBe("ok");
    expect(gate.stats.running).toBe(0);
  });

  test("replays in progress are limited per connection and per user; done() gives the place back once", () => {
    const gate = new ReplayGate({ concurrency: 1, perConnection: 2, perUser: 3, ...pace });
    const a1 = ticket(gate.admit("c1", "alice"));
    ticket(gate.admit("c1", "alice"));
    expect(gate.admit("c1", "alice")).toBe("connection");
    ticket(gate.admit("c2", "alice"));
    expect(gate.admit("c3", "alice")).toBe("user");
    // Another member is not affected.
    ticket(gate.admit("c4", "bob"));
    expect(gate.stats.refused).toBe(2);
    a1.done();
    a1.done();
    ticket(gate.admit("c1", "alice"));
    expect(gate.admit("c1", "alice")).toBe("connection");
    expect(gate.admit("c5", "alice")).toBe("user");
  });

  test("a user's replays share one pace: a burst at once, then bytes at the rate", async () => {
    const gate = new ReplayGate({ concurrency: 1, perConnection: 10, perUser: 10, ...pace });
    const a = ticket(gate.admit("c1", "alice"));
    const b = ticket(gate.admit("c2", "alice"));
    // 100 kB of burst: free.
    expect(a.spend(60_000)).toBeUndefined();
    expect(b.spend(40_000)).toBeUndefined();
    // Past it, 50 kB more at 1 MB/s: about 50 ms, on either ticket.
    const started = performance.now();
    await b.spend(50_000);
    expect(performance.now() - started).toBeGreaterThan(35);
    // Another user is not slowed down.
    expect(ticket(gate.admit("c3", "bob")).spend(90_000)).toBeUndefined();
  });
});
