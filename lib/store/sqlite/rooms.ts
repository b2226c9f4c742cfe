import type { Database } from "bun:sqlite";
import { dmKey, dmUsersOf } from "../dm-key.ts";
import {
  type Ban,
  ConflictError,
  ForbiddenError,
  type LeaveResult,
  type Member,
  type ReadPosition,
  type Room,
  type RoomChanges,
  type RoomKind,
  RoomNotFoundError,
  type RoomStore,
} from "../types.ts";
import { prepareAdvanceReadPositions } from "./read-positions.ts";

interface RoomRow {
  id: string;
  name: string;
  description: string;
  kind: RoomKind;
  private: number;
  owner_id: string;
  max_members: number;
  member_count: number;
  invite_gen: number;
  dm_key: string | null;
  created_at: string;
}

const toRoom = (r: RoomRow): Room => ({
  id: r.id,
  name: r.name,
  description: r.description,
  kind: r.kind,
  private: r.private === 1,
  ownerId: r.owner_id,
  maxMembers: r.max_members,
  memberCount: r.member_count,
  createdAt: r.created_at,
  ...(r.dm_key ? { dmUsers: dmUsersOf(r.dm_key) } : {}),
});

const notOwner = () => new ForbiddenError("not_owner", "only the owner can do this");

/**
 * Rooms on bun:sqlite. Every read-modify-write runs in BEGIN IMMEDIATE, which takes the database's
 * write lock up front: in one process the calls are serial anyway, and across processes sharing the
 * file the second writer waits (busy_timeout) instead of both reading the same member_count.
 */
export function sqliteRoomStore(
  db: Database,
  /** Where read positions are written: a thread of their own for a file (index.ts), else inline. */
  writeReadPositions: (
    positions: readonly ReadPosition[],
  ) => void | Promise<void> = prepareAdvanceReadPositions(db),
): RoomStore {
  const now = () => new Date().toISOString();
  const getRoom = (roomId: string) =>
    db.query("SELECT * FROM rooms WHERE id = $roomId").get({ roomId }) as RoomRow | null;
  const memberExists = (roomId: string, userId: string) =>
    db
      .query("SELECT 1 FROM memberships WHERE room_id = $roomId AND user_id = $userId")
      .get({ roomId, userId }) !== null;
  const addMember = (roomId: string, userId: string, readPosition: number) =>
    db
      .query(
        "INSERT INTO memberships (room_id, user_id, joined_at, read_seq) VALUES ($roomId, $userId, $now, $readPosition)",
      )
      .run({ roomId, userId, now: now(), readPosition });
  const bumpMembers = (roomId: string, by: number) =>
    db
      .query("UPDATE rooms SET member_count = member_count + $by WHERE id = $roomId RETURNING *")
      .get({ roomId, by }) as RoomRow;
  /** The room, if `actorId` owns it; otherwise why not. */
  const owned = (roomId: string, actorId: string): RoomRow => {
    const room = getRoom(roomId);
    if (!room) throw new RoomNotFoundError(`no room ${roomId}`);
    if (room.owner_id !== actorId) throw notOwner();
    return room;
  };

  const createRoom = db.transaction(
    (input: {
      name: string;
      description?: string;
      ownerId: string;
      maxMembers: number;
      private?: boolean;
    }) => {
      const row: RoomRow = {
        id: Bun.randomUUIDv7(),
        name: input.name,
        description: input.description ?? "",
        kind: "group",
        private: input.private ? 1 : 0,
        owner_id: input.ownerId,
        max_members: input.maxMembers,
        member_count: 1,
        invite_gen: 0,
        dm_key: null,
        created_at: now(),
      };
      db.query(
        `INSERT INTO rooms (id, name, description, kind, private, owner_id, max_members, member_count, invite_gen, created_at)
         VALUES ($id, $name, $description, $kind, $private, $owner_id, $max_members, $member_count, $invite_gen, $created_at)`,
      ).run({ ...row });
      addMember(row.id, input.ownerId, 0);
      return toRoom(row);
    },
  );

  const join = db.transaction((roomId: string, userId: string, readPosition: number, inviteGen?: number) => {
    const room = getRoom(roomId);
    if (!room) throw new RoomNotFoundError(`no room ${roomId}`);
    if (memberExists(roomId, userId))
      throw new ConflictError("already_member", "already a member of this room");
    if (room.kind !== "group") throw new ForbiddenError("not_joinable", "a DM cannot be joined");
    const banned = db
      .query("SELECT 1 FROM room_bans WHERE room_id = $roomId AND user_id = $userId")
      .get({ roomId, userId });
    if (banned) throw new ForbiddenError("banned", "you are banned from this room");
    if (room.private && room.invite_gen !== inviteGen)
      throw new ForbiddenError("invite_required", "this room is joined by invite only");
    const bumped = db
      .query(
        `UPDATE rooms SET member_count = member_count + 1
         WHERE id = $roomId AND member_count < max_members RETURNING *`,
      )
      .get({ roomId }) as RoomRow | null;
    if (!bumped) throw new ConflictError("room_full", "the room is full");
    addMember(roomId, userId, readPosition);
    return toRoom(bumped);
  });

  const openDm = db.transaction((userId: string, peerId: string) => {
    const key = dmKey(userId, peerId);
    const existing = db.query("SELECT * FROM rooms WHERE dm_key = $key").get({ key }) as RoomRow | null;
    if (!existing) {
      const row: RoomRow = {
        id: Bun.randomUUIDv7(),
        name: "",
        description: "",
        kind: "dm",
        private: 1,
        owner_id: userId,
        max_members: 2,
        member_count: 2,
        invite_gen: 0,
        dm_key: key,
        created_at: now(),
      };
      db.query(
        `INSERT INTO rooms (id, name, description, kind, private, owner_id, max_members, member_count, invite_gen, created_at, dm_key)
         VALUES ($id, $name, $description, $kind, $private, $owner_id, $max_members, $member_count, $invite_gen, $created_at, $dm_key)`,
      ).run({ ...row });
      addMember(row.id, userId, 0);
      addMember(row.id, peerId, 0);
      return { room: toRoom(row), created: true, rejoined: false };
    }
    if (memberExists(existing.id, userId)) return { room: toRoom(existing), created: false, rejoined: false };
    addMember(existing.id, userId, 0);
    return { room: toRoom(bumpMembers(existing.id, 1)), created: false, rejoined: true };
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

  const updateRoom = db.transaction((roomId: string, actorId: string, changes: RoomChanges) => {
    const room = owned(roomId, actorId);
    if (changes.maxMembers !== undefined && room.member_count > changes.maxMembers) {
      throw new ConflictError("below_member_count", "the room has more members than that");
    }
    return toRoom(
      db
        .query(
          `UPDATE rooms SET name = $name, description = $description, max_members = $max, private = $private
           WHERE id = $roomId RETURNING *`,
        )
        .get({
          roomId,
          name: changes.name ?? room.name,
          description: changes.description ?? room.description,
          max: changes.maxMembers ?? room.max_members,
          private: (changes.private ?? room.private === 1) ? 1 : 0,
        }) as RoomRow,
    );
  });

  const removeMember = db.transaction((roomId: string, actorId: string, userId: string, ban: boolean) => {
    const room = owned(roomId, actorId);
    const removed = db
      .query("DELETE FROM memberships WHERE room_id = $roomId AND user_id = $userId")
      .run({ roomId, userId }).changes;
    if (ban) {
      db.query(
        "INSERT OR IGNORE INTO room_bans (room_id, user_id, banned_at) VALUES ($roomId, $userId, $now)",
      ).run({ roomId, userId, now: now() });
    }
    if (removed === 0) return { removed: false, room: toRoom(room) };
    return { removed: true, room: toRoom(bumpMembers(roomId, -1)) };
  });

  const unban = db.transaction((roomId: string, actorId: string, userId: string) => {
    owned(roomId, actorId);
    return (
      db.query("DELETE FROM room_bans WHERE room_id = $roomId AND user_id = $userId").run({ roomId, userId })
        .changes > 0
    );
  });

  const transferOwnership = db.transaction((roomId: string, actorId: string, toUserId: string) => {
    owned(roomId, actorId);
    if (!memberExists(roomId, toUserId))
      throw new ForbiddenError("not_member", "the new owner must be a member");
    return toRoom(
      db
        .query("UPDATE rooms SET owner_id = $toUserId WHERE id = $roomId RETURNING *")
        .get({ roomId, toUserId }) as RoomRow,
    );
  });

  const revokeInvites = db.transaction((roomId: string, actorId: string) => {
    owned(roomId, actorId);
    return (
      db.query("UPDATE rooms SET invite_gen = invite_gen + 1 WHERE id = $roomId RETURNING invite_gen").get({
        roomId,
      }) as { invite_gen: number }
    ).invite_gen;
  });

  const deleteOwned = db.transaction((roomId: string, ownerId: string) => {
    if (!getRoom(roomId)) return false;
    owned(roomId, ownerId);
    db.query("DELETE FROM rooms WHERE id = $roomId").run({ roomId });
    return true;
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
           WHERE NOT r.private
           AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = r.id AND m.user_id = $userId)
           ORDER BY r.id DESC LIMIT $limit OFFSET $offset`,
        )
        .all({ userId, limit, offset }) as RoomRow[];
      return rows.map(toRoom);
    },
    async join(roomId, userId, readPosition, opts = {}) {
      return join.immediate(roomId, userId, readPosition, opts.inviteGen);
    },
    async openDm(userId, peerId) {
      return openDm.immediate(userId, peerId);
    },
    async leave(roomId, userId) {
      return leave.immediate(roomId, userId);
    },
    async updateRoom(roomId, actorId, changes) {
      return updateRoom.immediate(roomId, actorId, changes);
    },
    async removeMember(roomId, actorId, userId, ban) {
      return removeMember.immediate(roomId, actorId, userId, ban);
    },
    async unban(roomId, actorId, userId) {
      return unban.immediate(roomId, actorId, userId);
    },
    async bans(roomId) {
      const rows = db
        .query(
          `SELECT u.id, u.username, b.banned_at FROM room_bans b JOIN users u ON u.id = b.user_id
           WHERE b.room_id = $roomId ORDER BY b.banned_at, u.id`,
        )
        .all({ roomId }) as { id: string; username: string; banned_at: string }[];
      return rows.map((r): Ban => ({ id: r.id, username: r.username, bannedAt: r.banned_at }));
    },
    async transferOwnership(roomId, actorId, toUserId) {
      return transferOwnership.immediate(roomId, actorId, toUserId);
    },
    async inviteGeneration(roomId) {
      return getRoom(roomId)?.invite_gen ?? null;
    },
    async revokeInvites(roomId, actorId) {
      return revokeInvites.immediate(roomId, actorId);
    },
    async deleteRoom(roomId, ownerId) {
      if (ownerId !== undefined) return deleteOwned.immediate(roomId, ownerId);
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
    async readPositionsIn(roomId) {
      const rows = db
        .query("SELECT user_id, read_seq FROM memberships WHERE room_id = $roomId")
        .all({ roomId }) as { user_id: string; read_seq: number }[];
      return new Map(rows.map((r) => [r.user_id, r.read_seq]));
    },
    async advanceReadPositions(positions) {
      if (positions.length === 0) return;
      await writeReadPositions(positions);
    },
    async readPositions(userId) {
      const rows = db
        .query("SELECT room_id, read_seq FROM memberships WHERE user_id = $userId")
        .all({ userId }) as { room_id: string; read_seq: number }[];
      return new Map(rows.map((r) => [r.room_id, r.read_seq]));
    },
  };
}
