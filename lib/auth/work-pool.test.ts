import { describe, expect, test } from "bun:test";
import { PoolBusyError, WorkPool } from "./work-pool.ts";

/** A job that runs until released, counting how many run at once. */
function gate() {
  let running = 0;
  let most = 0;
  const opens: (() => void)[] = [];
  const job = () => {
    most = Math.max(most, ++running);
    return new Promise<void>((resolve) =>
      opens.push(() => {
        running--;
        resolve();
      }),
    );
  };
  const openAll = async () => {
    while (opens.length > 0) {
      for (const open of opens.splice(0)) open();
      await Bun.sleep(1);
    }
  };
  return { job, openAll, most: () => most, started: () => opens.length };
}

describe("work pool", () => {
  test("at most `concurrency` jobs run at once; the rest wait their turn", async () => {
    const pool = new WorkPool({ concurrency: 2, queueLimit: 10, what: "jobs" });
    const g = gate();
    const all = Array.from({ length: 6 }, () => pool.run(g.job));
    await Bun.sleep(1);
    expect(g.started()).toBe(2);
    await g.openAll();
    await Promise.all(all);
    expect(g.most()).toBe(2);
  });

  test("past the running and waiting ones, a job is refused at once with a retry time", async () => {
    const pool = new WorkPool({ concurrency: 1, queueLimit: 2, what: "jobs" });
    const g = gate();
    const accepted = [pool.run(g.job), pool.run(g.job), pool.run(g.job)];
    const refused = await pool.run(g.job).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PoolBusyError);
    expect((refused as PoolBusyError).retryAfterSec).toBeGreaterThanOrEqual(1);
    expect(pool.load).toEqual({ running: 1, waiting: 2, reserved: 0 });
    await g.openAll();
    await Promise.all(accepted);
    expect(pool.load).toEqual({ running: 0, waiting: 0, reserved: 0 });
    await pool.run(async () => undefined); // taken again once drained
  });

  test("the retry time grows with the work ahead, from the jobs' measured duration", async () => {
    const refusal = async (queueLimit: number) => {
      const pool = new WorkPool({ concurrency: 1, queueLimit, what: "jobs" });
      await pool.run(() => Bun.sleep(40)); // a job's duration is known from here on
      const accepted = Array.from({ length: queueLimit + 1 }, () => pool.run(() => Bun.sleep(40)));
      const refused = (await pool.run(() => Bun.sleep(40)).catch((e: unknown) => e)) as PoolBusyError;
      await Promise.all(accepted);
      expect(refused).toBeInstanceOf(PoolBusyError);
      return refused.retryAfterSec;
    };
    // 1 running + 40 waiting at ≥ 40 ms each is over a second and a half of work; 1 running is not.
    expect(await refusal(40)).toBeGreaterThan(await refusal(0));
  });

  test("a reservation holds a place until its job runs or it is released", async () => {
    const pool = new WorkPool({ concurrency: 1, queueLimit: 1, what: "jobs" });
    const a = pool.reserve();
    const b = pool.reserve();
    expect(() => pool.reserve()).toThrow(PoolBusyError);
    expect(pool.load).toEqual({ running: 0, waiting: 0, reserved: 2 });
    b.release();
    b.release(); // once only
    expect(pool.load.reserved).toBe(1);
    const c = pool.reserve();
    expect(() => pool.reserve()).toThrow(PoolBusyError);
    const g = gate();
    const ran = [a.run(g.job), c.run(g.job)];
    await Bun.sleep(1);
    expect(pool.load).toEqual({ running: 1, waiting: 1, reserved: 0 });
    expect(await a.run(g.job).catch((e: unknown) => e)).toBeInstanceOf(Error); // one job per reservation
    await g.openAll();
    await Promise.all(ran);
  });
});
