import { createPasswordHasher } from "../../lib/auth/password.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";
import type { Room, Stores, User } from "../../lib/store/types.ts";

/** Messages handed to one append: large enough to amortise a round trip, small enough to stay lean. */
const APPEND_BATCH = 5_000;
/** Rooms written at once: keeps both cores of the database busy without queueing on them. */
const ROOM_CONCURRENCY = 4;
const TEXT = "seeded history: lorem ipsum dolor sit amet, consectetur adipiscing elit";

export interface SeededRoom {
  id: string;
  /** The room's members (the first is its owner); they send the seeded messages in turn. */
  members: User[];
}

/**
 * Creates `rooms` rooms with `members` members each (users `<prefix>-u<n>`, password `password`),
 * in the store the apps read.
 */
export async function seedRooms(
  stores: Stores,
  opts: { rooms: number; members: number; prefix: string; password: string },
): Promise<SeededRoom[]> {
  const hash = await createPasswordHasher().hash(opts.password);
  const users: User[] = [];
  for (let i = 0; i < opts.members; i++) {
    users.push(await stores.users.createUser(`${opts.prefix}-u${i + 1}`, hash));
  }
  const owner = users[0]!;
  const seeded: SeededRoom[] = [];
  for (let r = 0; r < opts.rooms; r++) {
    const room: Room = await stores.rooms.createRoom({
      name: `${opts.prefix} room ${r + 1}`,
      ownerId: owner.id,
      maxMembers: Math.max(2, opts.members),
    });
    for (const user of users.slice(1)) await stores.rooms.join(room.id, user.id, 0);
    seeded.push({ id: room.id, members: users });
  }
  return seeded;
}

/**
 * The rooms and members an earlier run with this prefix created, in the order it created them, or
 * undefined when it created none (or fewer users or rooms than asked: then it was not this layout).
 */
export async function findSeededRooms(
  stores: Stores,
  opts: { rooms: number; members: number; prefix: string },
): Promise<SeededRoom[] | undefined> {
  const users: User[] = [];
  for (let i = 0; i < opts.members; i++) {
    const user = await stores.users.findByUsername(`${opts.prefix}-u${i + 1}`);
    if (!user) return undefined;
    users.push({ id: user.id, username: user.username, createdAt: user.createdAt });
  }
  const byName = new Map((await stores.rooms.listForMember(users[0]!.id)).map((r) => [r.name, r.id]));
  const seeded: SeededRoom[] = [];
  for (let r = 0; r < opts.rooms; r++) {
    const id = byName.get(`${opts.prefix} room ${r + 1}`);
    if (!id) return undefined;
    seeded.push({ id, members: users });
  }
  return seeded;
}

/**
 * True when the backlog holds the whole history of `total` messages over these rooms: the room that
 * got the last message has it (rooms are written in parallel, so each room's last one is checked).
 */
export async function historyComplete(
  backlog: Backlog,
  rooms: SeededRoom[],
  total: number,
): Promise<boolean> {
  for (const [r, room] of rooms.entries()) {
    if (r >= total) break;
    const last = seqOf(r + Math.floor((total - 1 - r) / rooms.length) * rooms.length);
    if ((await backlog.lastSeq(room.id)) !== last) return false;
  }
  return true;
}

/**
 * The seq of message `index` (0-based) when messages are dealt round-robin over `roomCount` rooms:
 * one log numbered 1, 2, 3, ... as a single partition would be, so each room's seqs rise with gaps.
 */
export const seqOf = (index: number) => index + 1;

/** The messages of room `r` among indexes [from, to), in seq order. */
function* roomMessages(room: SeededRoom, r: number, roomCount: number, from: number, to: number) {
  const first = from + ((((r - from) % roomCount) + roomCount) % roomCount);
  const start = Date.UTC(2025, 0, 1);
  for (let i = first; i < to; i += roomCount) {
    const sender = room.members[i % room.members.length]!;
    yield {
      id: Bun.randomUUIDv7("hex", start + i * 1_000),
      roomId: room.id,
      seq: seqOf(i),
      type: "message",
      sender: { id: sender.id, username: sender.username },
      text: `${TEXT} #${i}`,
      sentAt: new Date(start + i * 1_000).toISOString(),
    } satisfies ChatMessage;
  }
}

/**
 * Writes messages [from, to) of the round-robin log into the backlog, straight (no bus), room by
 * room so each append is one room's run in seq order — as the backlog writer would give it. Call
 * again with the next range to grow the same history.
 */
export async function seedMessages(
  backlog: Backlog,
  rooms: SeededRoom[],
  range: { from: number; to: number },
  progress?: (written: number) => void,
): Promise<void> {
  let written = 0;
  let next = 0;
  const worker = async () => {
    while (next < rooms.length) {
      const r = next++;
      let batch: ChatMessage[] = [];
      for (const m of roomMessages(rooms[r]!, r, rooms.length, range.from, range.to)) {
        batch.push(m);
        if (batch.length === APPEND_BATCH) {
          await backlog.append(batch);
          written += batch.length;
          batch = [];
          progress?.(written);
        }
      }
      if (batch.length > 0) await backlog.append(batch);
      written += batch.length;
      progress?.(written);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ROOM_CONCURRENCY, rooms.length) }, worker));
}

/**
 * Sets every member's read position so that the last `unread` messages of each room are unread,
 * among the first `total` messages of the log.
 */
export async function seedReadPositions(
  stores: Stores,
  rooms: SeededRoom[],
  total: number,
  unread: number,
): Promise<void> {
  for (const [r, room] of rooms.entries()) {
    const count = r < total ? Math.floor((total - 1 - r) / rooms.length) + 1 : 0;
    const read = count - unread;
    if (read <= 0) continue;
    const position = seqOf(r + (read - 1) * rooms.length);
    for (const user of room.members) await stores.rooms.advanceReadPosition(room.id, user.id, position);
  }
}
