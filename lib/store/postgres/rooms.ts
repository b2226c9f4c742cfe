import type { Sql, TransactionSql } from "postgres";
import { dmKey, dmUsersOf } from "../dm-key.ts";
import {
  ConflictError,
  ForbiddenError,
  type LeaveResult,
  type Room,
  type RoomKind,
  RoomNotFoundError,
  type RoomStore,
} from "../types.ts";

interface RoomRow {
  id: string;
  name: string;
  description: string;
  kind: RoomKind;
  private: boolean;
  owner_id: string;
  max_members: number;
  member_count: number;
  invite_gen: number;
  dm_key: string | null;
  created_at: Date;
}

const toRoom = (r: RoomRow): Room => ({
  id: r.id,
  name: r.name,
  description: r.description,
  kind: r.kind,
  private: r.private,
  ownerId: r.owner_id,
  maxMembers: r.max_members,
  memberCount: r.member_count,
  createdAt: r.created_at.toISOString(),
  ...(r.dm_key ? { dmUsers: dmUsersOf(r.dm_key) } : {}),
});

/** read_seq is bigint; positions stay far below 2^53, so a JS number holds them exactly. */
const toSeq = (v: string | number) => Number(v);

const notOwner = () => new ForbiddenError("not_owner", "only the owner can do this");

/** Locks the room's row and checks that `actorId` owns it; every owner-only change starts here. */
async function ownerCheck(tx: TransactionSql, roomId: string, actorId: string): Promise<RoomRow> {
  const [room] = await tx<RoomRow[]>`SELECT * FROM rooms WHERE id = ${roomId} FOR UPDATE`;
  if (!room) throw new RoomNotFoundError(`no room ${roomId}`);
  if (room.owner_id !== actorId) throw notOwner();
  return room;
}

const isMemberIn = async (tx: TransactionSql, roomId: string, userId: string) =>
  (await tx`SELECT 1 FROM memberships WHERE room_id = ${roomId} AND user_id = ${userId}`).length > 0;

export function postgresRoomStore(sql: Sql): RoomStore {
  return {
    async createRoom({ name, description = "", ownerId, maxMembers, private: isPrivate = false }) {
      return sql.begin(async (tx) => {
        const [row] = await tx<RoomRow[]>`
          INSERT INTO rooms (id, name, description, private, owner_id, max_members, member_count)
          VALUES (${Bun.randomUUIDv7()}, ${name}, ${description}, ${isPrivate}, ${ownerId}, ${maxMembers}, 1)
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
        WHERE NOT r.private
        AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = r.id AND m.user_id = ${userId})
        ORDER BY r.id DESC LIMIT ${limit} OFFSET ${offset}`;
      return rows.map(toRoom);
    },

    /**
     * The cap holds across processes because every change to a room's membership first locks its row:
     * concurrent joiners, leaves, removals and cap changes queue on it, and each checks the committed
     * state in statements that start after it holds the lock (a subquery of one conditional UPDATE
     * would still see the snapshot from before the wait, and so a removal or a ban it waited for).
     */
    async join(roomId, userId, readPosition, opts = {}) {
      return sql.begin(async (tx) => {
        const [room] = await tx<RoomRow[]>`SELECT * FROM rooms WHERE id = ${roomId} FOR UPDATE`;
        if (!room) throw new RoomNotFoundError(`no room ${roomId}`);
        if (await isMemberIn(tx, roomId, userId))
          throw new ConflictError("already_member", "already a member of this room");
        if (room.kind !== "group") throw new ForbiddenError("not_joinable", "a DM cannot be joined");
        const [ban] = await tx`SELECT 1 FROM room_bans WHERE room_id = ${roomId} AND user_id = ${userId}`;
        if (ban) throw new ForbiddenError("banned", "you are banned from this room");
        if (room.private && room.invite_gen !== opts.inviteGen)
          throw new ForbiddenError("invite_required", "this room is joined by invite only");
        const [bumped] = await tx<RoomRow[]>`
          UPDATE rooms SET member_count = member_count + 1
          WHERE id = ${roomId} AND member_count < max_members RETURNING *`;
        if (!bumped) throw new ConflictError("room_full", "the room is full");
        await tx`
          INSERT INTO memberships (room_id, user_id, read_seq) VALUES (${roomId}, ${userId}, ${readPosition})`;
        return toRoom(bumped);
      });
    },

    /**
     * One row per pair, by the unique dm_key: a concurrent creator's INSERT waits for the first to
     * commit and then does nothing, and reads the row the first made.
     */
    async openDm(userId, peerId) {
      const key = dmKey(userId, peerId);
      return sql.begin(async (tx) => {
        const [made] = await tx<RoomRow[]>`
          INSERT INTO rooms (id, name, kind, private, owner_id, max_members, member_count, dm_key)
          VALUES (${Bun.randomUUIDv7()}, '', 'dm', true, ${userId}, 2, 2, ${key})
          ON CONFLICT (dm_key) DO NOTHING RETURNING *`;
        if (made) {
          await tx`INSERT INTO memberships (room_id, user_id) VALUES (${made.id}, ${userId}), (${made.id}, ${peerId})`;
          return { room: toRoom(made), created: true, rejoined: false };
        }
        const [room] = await tx<RoomRow[]>`SELECT * FROM rooms WHERE dm_key = ${key} FOR UPDATE`;
        // Deleted between the conflict and this read (both had left): the caller may simply retry.
        if (!room) throw new ConflictError("already_member", "the DM changed meanwhile; retry");
        if (await isMemberIn(tx, room.id, userId))
          return { room: toRoom(room), created: false, rejoined: false };
        await tx`INSERT INTO memberships (room_id, user_id) VALUES (${room.id}, ${userId})`;
        const [bumped] = await tx<RoomRow[]>`
          UPDATE rooms SET member_count = member_count + 1 WHERE id = ${room.id} RETURNING *`;
        return { room: toRoom(bumped!), created: false, rejoined: true };
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

    /** One conditional UPDATE, like a join: a cap change and concurrent joins serialize on the row. */
    async updateRoom(roomId, actorId, changes) {
      return sql.begin(async (tx) => {
        const [row] = await tx<RoomRow[]>`
          UPDATE rooms SET
            name = COALESCE(${changes.name ?? null}::text, name),
            description = COALESCE(${changes.description ?? null}::text, description),
            max_members = COALESCE(${changes.maxMembers ?? null}::integer, max_members),
            private = COALESCE(${changes.private ?? null}::boolean, private)
          WHERE id = ${roomId} AND owner_id = ${actorId}
          AND member_count <= COALESCE(${changes.maxMembers ?? null}::integer, max_members)
          RETURNING *`;
        if (row) return toRoom(row);
        await ownerCheck(tx, roomId, actorId);
        throw new ConflictError("below_member_count", "the room has more members than that");
      });
    },

    async removeMember(roomId, actorId, userId, ban) {
      return sql.begin(async (tx) => {
        const room = await ownerCheck(tx, roomId, actorId);
        const removed =
          await tx`DELETE FROM memberships WHERE room_id = ${roomId} AND user_id = ${userId} RETURNING 1`;
        if (ban) {
          await tx`INSERT INTO room_bans (room_id, user_id) VALUES (${roomId}, ${userId}) ON CONFLICT DO NOTHING`;
        }
        if (removed.length === 0) return { removed: false, room: toRoom(room) };
        const [after] = await tx<RoomRow[]>`
          UPDATE rooms SET member_count = member_count - 1 WHERE id = ${roomId} RETURNING *`;
        return { removed: true, room: toRoom(after!) };
      });
    },

    async unban(roomId, actorId, userId) {
      return sql.begin(async (tx) => {
        await ownerCheck(tx, roomId, actorId);
        const lifted =
          await tx`DELETE FROM room_bans WHERE room_id = ${roomId} AND user_id = ${userId} RETURNING 1`;
        return lifted.length > 0;
      });
    },

    async bans(roomId) {
      const rows = await sql<{ id: string; username: string; banned_at: Date }[]>`
        SELECT u.id, u.username, b.banned_at FROM room_bans b JOIN users u ON u.id = b.user_id
        WHERE b.room_id = ${roomId} ORDER BY b.banned_at, u.id`;
      return rows.map((r) => ({ id: r.id, username: r.username, bannedAt: r.banned_at.toISOString() }));
    },

    async transferOwnership(roomId, actorId, toUserId) {
      return sql.begin(async (tx) => {
        await ownerCheck(tx, roomId, actorId);
        if (!(await isMemberIn(tx, roomId, toUserId)))
          throw new ForbiddenError("not_member", "the new owner must be a member");
        const [row] = await tx<
          RoomRow[]
        >`UPDATE rooms SET owner_id = ${toUserId} WHERE id = ${roomId} RETURNING *`;
        return toRoom(row!);
      });
    },

    async inviteGeneration(roomId) {
      const [row] = await sql<{ invite_gen: number }[]>`SELECT invite_gen FROM rooms WHERE id = ${roomId}`;
      return row ? row.invite_gen : null;
    },

    async revokeInvites(roomId, actorId) {
      return sql.begin(async (tx) => {
        const [row] = await tx<{ invite_gen: number }[]>`
          UPDATE rooms SET invite_gen = invite_gen + 1 WHERE id = ${roomId} AND owner_id = ${actorId}
          RETURNING invite_gen`;
        if (row) return row.invite_gen;
        await ownerCheck(tx, roomId, actorId);
        throw notOwner();
      });
    },

    async deleteRoom(roomId, ownerId) {
      if (ownerId === undefined) {
        const removed = await sql`DELETE FROM rooms WHERE id = ${roomId} RETURNING 1`;
        return removed.length > 0;
      }
      return sql.begin(async (tx) => {
        const removed =
          await tx`DELETE FROM rooms WHERE id = ${roomId} AND owner_id = ${ownerId} RETURNING 1`;
        if (removed.length > 0) return true;
        const [room] = await tx`SELECT 1 FROM rooms WHERE id = ${roomId}`;
        if (room) throw notOwner();
        return false;
      });
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

    async readPositionsIn(roomId) {
      const rows = await sql<{ user_id: string; read_seq: string }[]>`
        SELECT user_id, read_seq FROM memberships WHERE room_id = ${roomId}`;
      return new Map(rows.map((r) => [r.user_id, toSeq(r.read_seq)]));
    },

    async advanceReadPositions(positions) {
      if (positions.length === 0) return;
      // One statement whatever the count: the rows travel as three arrays.
      await sql`
        UPDATE memberships m SET read_seq = GREATEST(m.read_seq, v.seq)
        FROM unnest(
          ${positions.map((p) => p.roomId)}::text[],
          ${positions.map((p) => p.userId)}::text[],
          ${positions.map((p) => p.seq)}::bigint[]
        ) AS v(room_id, user_id, seq)
        WHERE m.room_id = v.room_id AND m.user_id = v.user_id`;
    },

    async readPositions(userId) {
      const rows = await sql<{ room_id: string; read_seq: string }[]>`
        SELECT room_id, read_seq FROM memberships WHERE user_id = ${userId}`;
      return new Map(rows.map((r) => [r.room_id, toSeq(r.read_seq)]));
    },
  };
}
