import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RoomSignal, SignalBus } from "../../lib/signals/types.ts";
import { eventually } from "../eventually.ts";

/** Opens handles onto one shared signal transport: each handle is a separate node. */
export interface SignalFixture {
  handle(): Promise<SignalBus>;
  teardown?(): Promise<void>;
}

const signal = (roomId: string, n: number): RoomSignal => ({
  kind: "typing",
  roomId,
  userId: `u${n}`,
  username: `user ${n}`,
  data: { typing: n % 2 === 0, n },
});

/** The behaviour every SignalBus adapter must have. Call inside a describe(). */
export function signalBusContract(fixture: SignalFixture): void {
  let a: SignalBus;
  let b: SignalBus;
  const run = crypto.randomUUID().slice(0, 8);
  const room = (name: string) => `${run}-${name}`;

  beforeAll(async () => {
    a = await fixture.handle();
    b = await fixture.handle();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fixture.teardown?.();
  });

  test("a signal reaches every subscriber on every handle, the publisher's own too, once and intact", async () => {
    const r = room("all");
    const seen: [string, RoomSignal][] = [];
    const stops = await Promise.all([
      a.subscribe((s) => s.roomId === r && seen.push(["a1", s])),
      a.subscribe((s) => s.roomId === r && seen.push(["a2", s])),
      b.subscribe((s) => s.roomId === r && seen.push(["b", s])),
    ]);
    a.publish(signal(r, 1));
    await eventually(() => seen.length >= 3, "three deliveries");
    await Bun.sleep(50);
    expect(seen.map(([who]) => who).sort()).toEqual(["a1", "a2", "b"]);
    for (const [, s] of seen) expect(s).toEqual(signal(r, 1));
    for (const stop of stops) await stop();
  });

  test("signals keep their publisher's order, also many at once", async () => {
    const r = room("order");
    const got: number[] = [];
    const stop = await b.subscribe((s) => s.roomId === r && got.push(s.data.n as number));
    for (let i = 0; i < 1000; i++) a.publish(signal(r, i));
    await eventually(() => got.length >= 1000, "1,000 signals");
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(a.dropped).toBe(0);
    await stop();
  });

  test("after unsubscribing, nothing more arrives; publish never throws", async () => {
    const r = room("stop");
    const got: RoomSignal[] = [];
    const stop = await b.subscribe((s) => s.roomId === r && got.push(s));
    a.publish(signal(r, 1));
    await eventually(() => got.length === 1, "the first signal");
    await stop();
    a.publish(signal(r, 2));
    // A second subscriber proves the second signal was delivered; the stopped one did not see it.
    const later: RoomSignal[] = [];
    const probe = await b.subscribe((s) => s.roomId === r && later.push(s));
    a.publish(signal(r, 3));
    await eventually(() => later.length >= 1, "the probe");
    expect(got).toHaveLength(1);
    await probe();
  });
}
