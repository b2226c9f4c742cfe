import { expect, test } from "bun:test";
import { silentLogger } from "../../lib/log/index.ts";
import type { RoomStore } from "../../lib/store/types.ts";
import { ReadPositionWriter } from "./read-positions.ts";

type Row = { roomId: string; userId: string; seq: number };

/** A store whose writes wait until the test lets them finish, and fail while `failing`. */
function slowStore() {
  const written: Row[][] = [];
  const gates: (() => void)[] = [];
  let failing = false;
  const store = {
    async advanceReadPositions(rows: Row[]) {
      await new Promise<void>((open) => gates.push(open));
      if (failing) throw new Error("store down");
      written.push(rows.map((r) => ({ ...r })));
    },
  } as unknown as RoomStore;
  const openAll = () => {
    for (const open of gates.splice(0)) open();
  };
  return { store, written, openAll, fail: (f: boolean) => (failing = f) };
}

test("flush resolves true only once the caller's positions are written, after a pass already under way", async () => {
  const s = slowStore();
  const writer = new ReadPositionWriter(s.store, silentLogger);
  writer.advance("r", "a", 1);
  const earlier = writer.flush(); // takes {a:1}
  writer.advance("r", "b", 2);
  const mine = writer.flush(); // must wait for the earlier pass and write {b:2} too
  let done = false;
  void mine.then(() => (done = true));
  while (s.written.length < 2) {
    s.openAll();
    await Bun.sleep(1);
    if (s.written.length === 1) expect(done).toBe(false);
  }
  expect(await earlier).toBe(true);
  expect(await mine).toBe(true);
  expect(s.written).toEqual([[{ roomId: "r", userId: "a", seq: 1 }], [{ roomId: "r", userId: "b", seq: 2 }]]);
});

test("a refused write answers false and queues the positions again; a newer position queued later does not", async () => {
  const s = slowStore();
  const writer = new ReadPositionWriter(s.store, silentLogger);
  s.fail(true);
  writer.advance("r", "a", 1);
  const refused = writer.flush();
  s.openAll();
  expect(await refused).toBe(false);
  s.fail(false);
  const retried = writer.flush();
  writer.advance("r", "a", 5); // confirmed meanwhile: queued after this pass took its batch
  s.openAll();
  expect(await retried).toBe(true);
  expect(s.written).toEqual([[{ roomId: "r", userId: "a", seq: 1 }]]);
});
