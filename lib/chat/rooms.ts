import { errorFields } from "../log/index.ts";
import type { Member, Room } from "../store/types.ts";
import { type Actor, type ChatContext, refOf } from "./context.ts";
import { ChatError, notMember, roomNotFound } from "./errors.ts";
import type { InviteTokens } from "./invites.ts";
import { DELETED_USER_NAME, newDraft, type UserRef } from "./message.ts";

/**
 * Unread counts stop here: a member back after a long absence sees "999+" rather than the server
 * counting every message it missed, so listing rooms costs O(rooms × (log N + cap)).
 */
export const UNREAD_COUNT_CAP = 1000;

/** A room as its member sees it in their list: how far they have read, what is unread; for a DM, with whom. */
export interface MyRoom extends Room {
  readPosition: number;
  /** Counted up to UNREAD_COUNT_CAP. */
  unreadCount: number;
  unreadCountCapped: boolean;
  /** The highest seq in the room's history (0 when empty). */
  lastSeq: number;
  peer?: UserRef;
}

export interface NewRoom {
  name: string;
  description?: string;
  maxMembers: number;
  private?: boolean;
}

/** Room lifecycle and membership: create, join (also by invite), leave, delete, and what members may read. */
export class Rooms {
  constructor(
    private readonly c: ChatContext,
    private readonly invites: InviteTokens,
  ) {}

  /** The creator becomes owner and first member; a join line opens the room's log. */
  async create(actor: Actor, input: NewRoom): Promise<Room> {
    await this.c.activeActor(actor);
    const { rooms } = this.c.ports;
    const room = await this.c.store(rooms.createRoom({ ...input, ownerId: actor.userId }));
    await this.announceJoin(room, actor, true, () => rooms.deleteRoom(room.id));
    return room;
  }

  async mine(actor: Actor): Promise<MyRoom[]> {
    await this.c.activeActor(actor);
    const { rooms, backlog } = this.c.ports;
    const [list, positions] = await Promise.all([
      rooms.listForMember(actor.userId),
      rooms.readPositions(actor.userId),
    ]);
    const readPositions = new Map(list.map((room) => [room.id, positions.get(room.id) ?? 0]));
    const [unread, lastSeqs, peers] = await Promise.all([
      backlog.unreadCounts(actor.userId, readPositions, UNREAD_COUNT_CAP),
      Promise.all(list.map((room) => backlog.lastSeq(room.id))),
      this.peersOf(actor.userId, list),
    ]);
    return list.map((room, i): MyRoom => {
      const unreadCount = unread.get(room.id) ?? 0;
      const peer = peers.get(room.id);
      return {
        ...room,
        readPosition: readPositions.get(room.id) ?? 0,
        unreadCount,
        unreadCountCapped: unreadCount >= UNREAD_COUNT_CAP,
        lastSeq: lastSeqs[i] ?? 0,
        ...(peer ? { peer } : {}),
      };
    });
  }

  /** The other user of each DM among `rooms` ("deleted user" once their account is gone). */
  async peersOf(userId: string, rooms: readonly Room[]): Promise<Map<string, UserRef>> {
    const peerIds = new Map<string, string>();
    for (const r of rooms) {
      const other = r.dmUsers?.find((id) => id !== userId) ?? r.dmUsers?.[0];
      if (other !== undefined) peerIds.set(r.id, other);
    }
    const found = new Map(
      (await this.c.ports.users.findByIds([...new Set(peerIds.values())])).map((u) => [u.id, u.username]),
    );
    return new Map(
      [...peerIds].map(([roomId, id]) => [roomId, { id, username: found.get(id) ?? DELETED_USER_NAME }]),
    );
  }

  /** What `userId` has not read in the room after `readPosition` (see unreadFor), up to UNREAD_COUNT_CAP. */
  async unread(userId: string, roomId: string, readPosition: number): Promise<number> {
    const counts = await this.c.ports.backlog.unreadCounts(
      userId,
      new Map([[roomId, readPosition]]),
      UNREAD_COUNT_CAP,
    );
    return counts.get(roomId) ?? 0;
  }

  discover(actor: Actor, page: { limit: number; offset: number }): Promise<Room[]> {
    return this.c.ports.rooms.listDiscoverable(actor.userId, page);
  }

  get(actor: Actor, roomId: string): Promise<{ room: Room; isMember: boolean }> {
    return this.c.visibleRoom(roomId, actor.userId);
  }

  async members(actor: Actor, roomId: string): Promise<Member[]> {
    const room = await this.c.memberRoom(roomId, actor.userId);
    return this.c.ports.rooms.members(room.id);
  }

  /**
   * Atomic against maxMembers. The membership starts at the backlog's last seq (close to the present,
   * so earlier history is not unread) and moves to the join line once the bus has stamped it. Private
   * rooms and DMs are not found by anyone outside them; private rooms are joined by invite.
   */
  async join(actor: Actor, roomId: string): Promise<Room> {
    const { isMember } = await this.c.visibleRoom(roomId, actor.userId);
    if (isMember) throw new ChatError("conflict", "already_member", "already a member of this room");
    return this.admit(actor, roomId);
  }

  /** Joins the room an invite link names, if the link is genuine, unexpired and not revoked. */
  async joinByInvite(actor: Actor, token: string): Promise<Room> {
    const invite = this.invites.verify(token, Math.floor(this.c.now() / 1000));
    const generation = await this.c.ports.rooms.inviteGeneration(invite.roomId);
    if (generation === null) throw roomNotFound();
    const revoked = () => new ChatError("forbidden", "invite_revoked", "this invite link was revoked");
    if (generation !== invite.generation) throw revoked();
    return this.admit(actor, invite.roomId, invite.generation).catch((err: unknown) => {
      // Revoked between the check above and the join.
      throw err instanceof ChatError && err.code === "invite_required" ? revoked() : err;
    });
  }

  /**
   * The store change comes first, so the member is out even if the bus is down (unavailable then).
   * The control event makes every node drop the member's live subscriptions; the leave line is what
   * the others see, naming the new owner when the owner left. The last member leaving deletes the room.
   */
  async leave(actor: Actor, roomId: string): Promise<void> {
    const room = await this.c.room(roomId);
    if (!(await this.depart(room.id, actor, "left"))) throw notMember();
  }

  /**
   * An account is being deleted: it leaves every room as a leave would (handing ownership on, deleting
   * rooms it was the last member of), each leave line naming the deleted user, so the backlog makes its
   * earlier lines in the room read as the deleted user too.
   */
  async departAll(actor: Actor): Promise<void> {
    for (const room of await this.c.ports.rooms.listForMember(actor.userId)) {
      await this.depart(room.id, actor, "account-deleted");
    }
  }

  /** Leaves one room; false when the user was not a member. */
  private async depart(roomId: string, actor: Actor, reason: "left" | "account-deleted"): Promise<boolean> {
    const { rooms, users } = this.c.ports;
    const result = await rooms.leave(roomId, actor.userId);
    if (!result.left) return false;
    if (result.roomDeleted) {
      await this.c.control({ type: "room-deleted", roomId });
      return true;
    }
    await this.c.control({ type: "member-removed", roomId, userId: actor.userId, reason });
    const heir = result.newOwnerId ? await users.findById(result.newOwnerId) : null;
    const gone = reason === "account-deleted";
    const who = gone ? DELETED_USER_NAME : actor.username;
    // A hand-over or an account deletion is always said; a plain leave within the window is not.
    if (!heir && !gone && !(await this.c.lineAllowed(roomId, actor.userId))) return true;
    const text = heir ? `${who} left; ${heir.username} is the owner now` : `${who} left`;
    const sender = { id: actor.userId, username: who };
    await this.c.append(newDraft(roomId, "leave", sender, text, gone ? { accountDeleted: true } : {}));
    return true;
  }

  /** Owner only (checked atomically with the delete); every node drops all live subscriptions to the room. */
  async delete(actor: Actor, roomId: string): Promise<void> {
    const room = await this.c.ownedRoom(roomId, actor, "delete this room");
    if (!(await this.c.store(this.c.ports.rooms.deleteRoom(room.id, actor.userId)))) throw roomNotFound();
    await this.c.control({ type: "room-deleted", roomId: room.id });
  }

  /** A member's read position (where a subscription's replay starts); forbidden for anyone else. */
  async readPosition(actor: Actor, roomId: string): Promise<number> {
    const position = await this.c.fromStore(
      this.c.ports.rooms.getReadPosition(roomId, actor.userId),
      "membership",
    );
    if (position === null) throw new ChatError("forbidden", "forbidden", `not a member of room ${roomId}`);
    return position;
  }

  private async admit(actor: Actor, roomId: string, inviteGen?: number): Promise<Room> {
    await this.c.activeActor(actor);
    const { rooms, backlog } = this.c.ports;
    const readPosition = await backlog.lastSeq(roomId);
    const opts = inviteGen === undefined ? {} : { inviteGen };
    const joined = await this.c.store(rooms.join(roomId, actor.userId, readPosition, opts));
    const line = await this.c.lineAllowed(roomId, actor.userId);
    await this.announceJoin(joined, actor, line, () => rooms.leave(roomId, actor.userId));
    return joined;
  }

  /**
   * Membership first, then the join line: the cap check stays one atomic store operation, and a refused
   * join never leaves a stray line. If the bus refuses the line, `undo` removes the membership so
   * nobody is half-joined. Without a line (joining again and again within the window) the read position
   * stays where the join put it: at the end of the history.
   */
  private async announceJoin(
    room: Room,
    actor: Actor,
    line: boolean,
    undo: () => Promise<unknown>,
  ): Promise<void> {
    if (line) {
      let seq: number;
      try {
        seq = (await this.c.append(newDraft(room.id, "join", refOf(actor), `${actor.username} joined`))).seq;
      } catch (err) {
        await undo().catch((e) =>
          this.c.ports.log("error", "could not undo a join", { roomId: room.id, ...errorFields(e) }),
        );
        throw err;
      }
      await this.c.ports.rooms.advanceReadPosition(room.id, actor.userId, seq);
    }
    await this.c.inform({ type: "member-joined", roomId: room.id, userId: actor.userId, room });
  }
}
