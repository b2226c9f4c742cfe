import { expect, test } from "bun:test";
import { createSqliteBacklog } from "../../lib/backlog/sqlite.ts";
import { createSqliteStores } from "../../lib/store/sqlite/index.ts";
import { seedMessages, seedReadPositions, seedRooms, seqOf } from "./seed.ts";

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
