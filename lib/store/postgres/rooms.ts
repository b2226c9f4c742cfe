import type { Sql } from "postgres";
import { ConflictError, type LeaveResult, type Room, RoomNotFoundError, type RoomStore } from "../types.ts";
import { isUniqueViolation } from "./users.ts";

interface RoomRow {
  id: string;
  name: string;
  owner_id: string;
  max_members: number;
  member_count: number;
  created_at: Date;
}

const toRoom = (r: RoomRow): Room => ({
  id: r.id,
  name: r.name,
  ownerId: r.owner_id,
  maxMembers: r.max_members,
  memberCount: r.member_count,
  createdAt: r.created_at.toISOString(),
});

/** read_seq is bigint; positions stay far below 2^53, so a JS number holds them exactly. */
const toSeq = (v: string | number) => Number(v);

export function postgresRoomStore(sql: Sql): RoomStore {
  return {
    async createRoom({ name, ownerId, maxMembers }) {
      return sql.begin(async (tx) => {
        const [row] = await tx<RoomRow[]>`
          INSERT INTO rooms (id, name, owner_id, max_members, member_count)
          VALUES (${Bun.randomUUIDv7()}, ${name}, ${ownerId}, ${maxMembers}, 1)
          RETURNING *`;
        await tx`INSERT INTO memberships (room_id, user_id) VALUES (${row!.id}, ${ownerId})`;
        return toRoom(row!);
      });
    },

    async getRoom(roomId) {
      const [row] = await sql<RoomRow[]>`SELECT * FROM rooms WHERE id = ${roomId}`;
      return row ? toRoom(row) : null;
    },

    async listForMember(userId) {
      const rows = await sql<RoomRow[]>`
        SELECT r.* FROM rooms r JOIN memberships m ON m.room_id = r.id
        WHERE m.user_id = ${userId} ORDER BY r.id DESC`;
      return rows.map(toRoom);
    },

    async listDiscoverable(userId, { limit, offset }) {
      const rows = await sql<RoomRow[]>`
        SELECT r.* FROM rooms r
        WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = r.id AND m.user_id = ${userId})
        ORDER BY r.id DESC LIMIT ${limit} OFFSET ${offset}`;
      return rows.map(toRoom);
    },

    /**
     * The cap holds across processes because the increment is one conditional UPDATE: concurrent
     * joiners queue on the room row's lock, and each re-checks `member_count < max_members` against
     * the committed count before it may add one. The membership insert shares the transaction, so a
     * duplicate join rolls its increment back.
     */
    async join(roomId, userId, readPosition) {
      return sql.begin(async (tx) => {
        const [bumped] = await tx<RoomRow[]>`
          UPDATE rooms SET member_count = member_count + 1
          WHERE id = ${roomId} AND member_count < max_members
          AND NOT EXISTS (SELECT 1 FROM memberships WHERE room_id = ${roomId} AND user_id = ${userId})
          RETURNING *`;
        if (!bumped) {
          const [room] = await tx<RoomRow[]>`SELECT * FROM rooms WHERE id = ${roomId}`;
          if (!room) throw new RoomNotFoundError(`no room ${roomId}`);
          const [member] =
            await tx`SELECT 1 FROM memberships WHERE room_id = ${roomId} AND user_id = ${userId}`;
          if (member) throw new ConflictError("already_member", "already a member of this room");
          throw new ConflictError("room_full", "the room is full");
        }
        try {
          await tx`
            INSERT INTO memberships (room_id, user_id, read_seq) VALUES (${roomId}, ${userId}, ${readPosition})`;
        } catch (err) {
          if (isUniqueViolation(err))
            throw new ConflictError("already_member", "already a member of this room");
          throw err;
        }
        return toRoom(bumped);
      });
    },

    /** Locks the room row first, so a leave queues behind (and ahead of) joins to the same room. */
    async leave(roomId, userId) {
      return sql.begin(async (tx): Promise<LeaveResult> => {
        const [room] = await tx<{ owner_id: string }[]>`
          SELECT owner_id FROM rooms WHERE id = ${roomId} FOR UPDATE`;
        if (!room) return { left: false };
        const removed =
          await tx`DELETE FROM memberships WHERE room_id = ${roomId} AND user_id = ${userId} RETURNING 1`;
        if (removed.length === 0) return { left: false };
        let newOwnerId: string | null = null;
        if (room.owner_id === userId) {
          const [next] = await tx<{ user_id: string }[]>`
            SELECT user_id FROM memberships WHERE room_id = ${roomId} ORDER BY joined_at, user_id LIMIT 1`;
          if (!next) {
            await tx`DELETE FROM rooms WHERE id = ${roomId}`;
            return { left: true, newOwnerId: null, roomDeleted: true };
          }
          newOwnerId = next.user_id;
        }
        await tx`
          UPDATE rooms SET member_count = member_count - 1, owner_id = ${newOwnerId ?? room.owner_id}
          WHERE id = ${roomId}`;
        return { left: true, newOwnerId, roomDeleted: false };
      });
    },

    async deleteRoom(roomId) {
      const removed = await sql`DELETE FROM rooms WHERE id = ${roomId} RETURNING 1`;
      return removed.length > 0;
    },

    async isMember(roomId, userId) {
      const rows = await sql`SELECT 1 FROM memberships WHERE room_id = ${roomId} AND user_id = ${userId}`;
      return rows.length > 0;
    },

    async members(roomId) {
      const rows = await sql<{ id: string; username: string; joined_at: Date }[]>`
        SELECT u.id, u.username, m.joined_at FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = ${roomId} ORDER BY m.joined_at, u.id`;
      return rows.map((r) => ({ id: r.id, username: r.username, joinedAt: r.joined_at.toISOString() }));
    },

    async getReadPosition(roomId, userId) {
      const [row] = await sql<{ read_seq: string }[]>`
        SELECT read_seq FROM memberships WHERE room_id = ${roomId} AND user_id = ${userId}`;
      return row ? toSeq(row.read_seq) : null;
    },

    async advanceReadPosition(roomId, userId, seq) {
      await sql`
        UPDATE memberships SET read_seq = GREATEST(read_seq, ${seq})
        WHERE room_id = ${roomId} AND user_id = ${userId}`;
    },

    async readPositions(userId) {
      const rows = await sql<{ room_id: string; read_seq: string }[]>`
        SELECT room_id, read_seq FROM memberships WHERE user_id = ${userId}`;
      return new Map(rows.map((r) => [r.room_id, toSeq(r.read_seq)]));
    },
  };
}
