import { expect, test } from "bun:test";
import { createSqliteBacklog } from "../../lib/backlog/sqlite.ts";
import { createSqliteStores } from "../../lib/store/sqlite/index.ts";
import {
  findSeededRooms,
  historyComplete,
  seedMessages,
  seedReadPositions,
  seedRooms,
  seqOf,
} from "./seed.ts";

test("seeds rooms, members, a round-robin history in two steps, and read positions that leave `unread`", async () => {
  const stores = createSqliteStores(":memory:");
  const backlog = createSqliteBacklog(":memory:");
  try {
    const rooms = await seedRooms(stores, { rooms: 7, members: 3, prefix: "s", password: "seed-password" });
    expect(rooms).toHaveLength(7);
    await seedMessages(backlog, rooms, { from: 0, to: 40 });
    await seedMessages(backlog, rooms, { from: 40, to: 100 });
    await seedReadPositions(stores, rooms, 100, 5);

    let total = 0;
    for (const [r, room] of rooms.entries()) {
      const history = await backlog.after(room.id, 0, 1_000);
      total += history.length;
      // Room r holds messages r, r+7, r+14, ... of the log: rising seqs with gaps of 7.
      expect(history.map((m) => m.seq)).toEqual(
        Array.from({ length: history.length }, (_, i) => seqOf(r + i * 7)),
      );
      expect(history.every((m) => m.roomId === room.id)).toBe(true);
      expect(new Set(history.map((m) => m.id)).size).toBe(history.length);
      expect(await stores.rooms.members(room.id)).toHaveLength(3);
    }
    expect(total).toBe(100);

    const member = rooms[0]!.members[2]!;
    const positions = await stores.rooms.readPositions(member.id);
    expect(positions.size).toBe(7);
    const unread = await backlog.countsAfter(positions, 1_000);
    for (const room of rooms) expect(unread.get(room.id)).toBe(5);
    expect((await stores.users.findByUsername("s-u2"))?.id).toBe(rooms[0]!.members[1]!.id);
  } finally {
    await backlog.close();
    await stores.close();
  }
});

test("a run with the same prefix finds the rooms again and tells a whole history from a partial one", async () => {
  const stores = createSqliteStores(":memory:");
  const backlog = createSqliteBacklog(":memory:");
  try {
    const opts = { rooms: 5, members: 2, prefix: "again" };
    expect(await findSeededRooms(stores, opts)).toBeUndefined();
    const rooms = await seedRooms(stores, { ...opts, password: "seed-password" });
    const found = await findSeededRooms(stores, opts);
    expect(found?.map((r) => r.id)).toEqual(rooms.map((r) => r.id));
    expect(found?.[0]?.members.map((u) => u.username)).toEqual(["again-u1", "again-u2"]);
    expect(await findSeededRooms(stores, { ...opts, rooms: 6 })).toBeUndefined();

    await seedMessages(backlog, rooms, { from: 0, to: 23 });
    expect(await historyComplete(backlog, rooms, 23)).toBe(true);
    expect(await historyComplete(backlog, rooms, 24)).toBe(false);
    expect(await historyComplete(backlog, rooms, 3)).toBe(false);
    // Written again from the start (as --once does after an interrupted run): nothing doubles.
    await seedMessages(backlog, rooms, { from: 0, to: 24 });
    expect(await historyComplete(backlog, rooms, 24)).toBe(true);
    expect((await backlog.after(rooms[0]!.id, 0, 100)).length).toBe(5);
  } finally {
    await backlog.close();
    await stores.close();
  }
});
