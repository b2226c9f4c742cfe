import type { Database } from "bun:sqlite";
import {
  ConflictError,
  type LeaveResult,
  type Member,
  type Room,
  RoomNotFoundError,
  type RoomStore,
} from "../types.ts";

interface RoomRow {
  id: string;
  name: string;
  owner_id: string;
  max_members: number;
  member_count: number;
  created_at: string;
}

const toRoom = (r: RoomRow): Room => ({
  id: r.id,
  name: r.name,
  ownerId: r.owner_id,
  maxMembers: r.max_members,
  memberCount: r.member_count,
  createdAt: r.created_at,
});

/**
 * Rooms on bun:sqlite. Every read-modify-write runs in BEGIN IMMEDIATE, which takes the database's
 * write lock up front: in one process the calls are serial anyway, and across processes sharing the
 * file the second writer waits (busy_timeout) instead of both reading the same member_count.
 */
export function sqliteRoomStore(db: Database): RoomStore {
  const getRoom = (roomId: string) =>
    db.query("SELECT * FROM rooms WHERE id = $roomId").get({ roomId }) as RoomRow | null;
  const memberExists = (roomId: string, userId: string) =>
    db
      .query("SELECT 1 FROM memberships WHERE room_id = $roomId AND user_id = $userId")
      .get({ roomId, userId }) !== null;

  const createRoom = db.transaction((input: { name: string; ownerId: string; maxMembers: number }) => {
    const now = new Date().toISOString();
    const row: RoomRow = {
      id: Bun.randomUUIDv7(),
      name: input.name,
      owner_id: input.ownerId,
      max_members: input.maxMembers,
      member_count: 1,
      created_at: now,
    };
    db.query(
      `INSERT INTO rooms (id, name, owner_id, max_members, member_count, created_at)
       VALUES ($id, $name, $owner_id, $max_members, $member_count, $created_at)`,
    ).run({ ...row });
    db.query(
      "INSERT INTO memberships (room_id, user_id, joined_at, read_seq) VALUES ($roomId, $userId, $now, 0)",
    ).run({ roomId: row.id, userId: input.ownerId, now });
    return toRoom(row);
  });

  const join = db.transaction((roomId: string, userId: string, readPosition: number) => {
    if (!getRoom(roomId)) throw new RoomNotFoundError(`no room ${roomId}`);
    if (memberExists(roomId, userId))
      throw new ConflictError("already_member", "already a member of this room");
    const bumped = db
      .query(
        `UPDATE rooms SET member_count = member_count + 1
         WHERE id = $roomId AND member_count < max_members RETURNING *`,
      )
      .get({ roomId }) as RoomRow | null;
    if (!bumped) throw new ConflictError("room_full", "the room is full");
    db.query(
      "INSERT INTO memberships (room_id, user_id, joined_at, read_seq) VALUES ($roomId, $userId, $now, $readPosition)",
    ).run({ roomId, userId, now: new Date().toISOString(), readPosition });
    return toRoom(bumped);
  });

  const leave = db.transaction((roomId: string, userId: string): LeaveResult => {
    const room = getRoom(roomId);
    if (!room) return { left: false };
    const removed = db
      .query("DELETE FROM memberships WHERE room_id = $roomId AND user_id = $userId")
      .run({ roomId, userId });
    if (removed.changes === 0) return { left: false };
    let newOwnerId: string | null = null;
    if (room.owner_id === userId) {
      const next = db
        .query("SELECT user_id FROM memberships WHERE room_id = $roomId ORDER BY joined_at, user_id LIMIT 1")
        .get({ roomId }) as { user_id: string } | null;
      if (!next) {
        db.query("DELETE FROM rooms WHERE id = $roomId").run({ roomId });
        return { left: true, newOwnerId: null, roomDeleted: true };
      }
      newOwnerId = next.user_id;
    }
    db.query("UPDATE rooms SET member_count = member_count - 1, owner_id = $ownerId WHERE id = $roomId").run({
      roomId,
      ownerId: newOwnerId ?? room.owner_id,
    });
    return { left: true, newOwnerId, roomDeleted: false };
  });

  return {
    async createRoom(input) {
      return createRoom.immediate(input);
    },
    async getRoom(roomId) {
      const row = getRoom(roomId);
      return row ? toRoom(row) : null;
    },
    async listForMember(userId) {
      const rows = db
        .query(
          `SELECT r.* FROM rooms r JOIN memberships m ON m.room_id = r.id
           WHERE m.user_id = $userId ORDER BY r.id DESC`,
        )
        .all({ userId }) as RoomRow[];
      return rows.map(toRoom);
    },
    async listDiscoverable(userId, { limit, offset }) {
      const rows = db
        .query(
          `SELECT r.* FROM rooms r
           WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = r.id AND m.user_id = $userId)
           ORDER BY r.id DESC LIMIT $limit OFFSET $offset`,
        )
        .all({ userId, limit, offset }) as RoomRow[];
      return rows.map(toRoom);
    },
    async join(roomId, userId, readPosition) {
      return join.immediate(roomId, userId, readPosition);
    },
    async leave(roomId, userId) {
      return leave.immediate(roomId, userId);
    },
    async deleteRoom(roomId) {
      return db.query("DELETE FROM rooms WHERE id = $roomId").run({ roomId }).changes > 0;
    },
    async isMember(roomId, userId) {
      return memberExists(roomId, userId);
    },
    async members(roomId) {
      const rows = db
        .query(
          `SELECT u.id, u.username, m.joined_at FROM memberships m JOIN users u ON u.id = m.user_id
           WHERE m.room_id = $roomId ORDER BY m.joined_at, u.id`,
        )
        .all({ roomId }) as { id: string; username: string; joined_at: string }[];
      return rows.map((r): Member => ({ id: r.id, username: r.username, joinedAt: r.joined_at }));
    },
    async getReadPosition(roomId, userId) {
      const row = db
        .query("SELECT read_seq FROM memberships WHERE room_id = $roomId AND user_id = $userId")
        .get({ roomId, userId }) as { read_seq: number } | null;
      return row ? row.read_seq : null;
    },
    async advanceReadPosition(roomId, userId, seq) {
      db.query(
        "UPDATE memberships SET read_seq = MAX(read_seq, $seq) WHERE room_id = $roomId AND user_id = $userId",
      ).run({ roomId, userId, seq });
    },
    async readPositions(userId) {
      const rows = db
        .query("SELECT room_id, read_seq FROM memberships WHERE user_id = $userId")
        .all({ userId }) as { room_id: string; read_seq: number }[];
      return new Map(rows.map((r) => [r.room_id, r.read_seq]));
    },
  };
}
