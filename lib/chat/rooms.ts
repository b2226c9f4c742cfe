import { errorFields } from "../log/index.ts";
import type { Member, Room } from "../store/types.ts";
import { type Actor, type ChatContext, refOf } from "./context.ts";
import { ChatError, notOwner, storeRefusal } from "./errors.ts";
import { newDraft } from "./message.ts";

/** A room as its member sees it in their list: with how far they have read and what is unread. */
/**
 * Unread counts stop here: a member back after a long absence sees "999+" rather than the server
 * counting every message it missed, so listing rooms costs O(rooms × (log N + cap)).
 */
export const UNREAD_COUNT_CAP = 1000;

export interface MyRoom extends Room {
  readPosition: number;
  /** Counted up to UNREAD_COUNT_CAP. */
  unreadCount: number;
  unreadCountCapped: boolean;
}

/** Room lifecycle and membership: create, join, leave, delete, and what members may read about a room. */
export class Rooms {
  constructor(private readonly c: ChatContext) {}

  /** The creator becomes owner and first member; a join line opens the room's log. */
  async create(actor: Actor, input: { name: string; maxMembers: number }): Promise<Room> {
    const { rooms } = this.c.ports;
    const room = await rooms.createRoom({ ...input, ownerId: actor.userId }).catch((e) => {
      throw storeRefusal(e);
    });
    await this.announceJoin(room.id, actor, () => rooms.deleteRoom(room.id));
    return room;
  }

  async mine(actor: Actor): Promise<MyRoom[]> {
    const { rooms, backlog } = this.c.ports;
    const [list, positions] = await Promise.all([
      rooms.listForMember(actor.userId),
      rooms.readPositions(actor.userId),
    ]);
    const readPositions = new Map(list.map((room) => [room.id, positions.get(room.id) ?? 0]));
    const unread = await backlog.countsAfter(readPositions, UNREAD_COUNT_CAP);
    return list.map((room) => {
      const unreadCount = unread.get(room.id) ?? 0;
      return {
        ...room,
        readPosition: readPositions.get(room.id) ?? 0,
        unreadCount,
        unreadCountCapped: unreadCount >= UNREAD_COUNT_CAP,
      };
    });
  }

  discover(actor: Actor, page: { limit: number; offset: number }): Promise<Room[]> {
    return this.c.ports.rooms.listDiscoverable(actor.userId, page);
  }

  async get(actor: Actor, roomId: string): Promise<{ room: Room; isMember: boolean }> {
    const room = await this.c.room(roomId);
    return { room, isMember: await this.c.ports.rooms.isMember(room.id, actor.userId) };
  }

  async members(actor: Actor, roomId: string): Promise<Member[]> {
    const room = await this.c.memberRoom(roomId, actor.userId);
    return this.c.ports.rooms.members(room.id);
  }

  /**
   * Atomic against maxMembers. The membership starts at the backlog's last seq (close to the present,
   * so earlier history is not unread) and moves to the join line once the bus has stamped it.
   */
  async join(actor: Actor, roomId: string): Promise<Room> {
    const { rooms, backlog } = this.c.ports;
    const room = await this.c.room(roomId);
    const joined = await rooms.join(room.id, actor.userId, await backlog.lastSeq(room.id)).catch((e) => {
      throw storeRefusal(e);
    });
    await this.announceJoin(room.id, actor, () => rooms.leave(room.id, actor.userId));
    return joined;
  }

  /**
   * The store change comes first, so the member is out even if the bus is down (unavailable then).
   * The control event makes every node drop the member's live subscriptions; the leave line is what
   * the others see, naming the new owner when the owner left. The last member leaving deletes the room.
   */
  async leave(actor: Actor, roomId: string): Promise<void> {
    const { rooms, users } = this.c.ports;
    const room = await this.c.room(roomId);
    const result = await rooms.leave(room.id, actor.userId);
    if (!result.left) throw new ChatError("forbidden", "not_member", "you are not a member of this room");
    if (result.roomDeleted) {
      await this.c.control({ type: "room-deleted", roomId: room.id });
      return;
    }
    await this.c.control({ type: "member-removed", roomId: room.id, userId: actor.userId });
    const heir = result.newOwnerId ? await users.findById(result.newOwnerId) : null;
    const text = heir
      ? `${actor.username} left; ${heir.username} is the owner now`
      : `${actor.username} left`;
    await this.c.append(newDraft(room.id, "leave", refOf(actor), text));
  }

  /** Owner only; every node drops all live subscriptions to the room. */
  async delete(actor: Actor, roomId: string): Promise<void> {
    const room = await this.c.room(roomId);
    if (room.ownerId !== actor.userId) throw notOwner("delete this room");
    await this.c.ports.rooms.deleteRoom(room.id);
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

  /**
   * Membership first, then the join line: the cap check stays one atomic store operation, and a refused
   * join never leaves a stray line. If the bus refuses the line, `undo` removes the membership so
   * nobody is half-joined.
   */
  private async announceJoin(roomId: string, actor: Actor, undo: () => Promise<unknown>): Promise<void> {
    let seq: number;
    try {
      seq = (await this.c.append(newDraft(roomId, "join", refOf(actor), `${actor.username} joined`))).seq;
    } catch (err) {
      await undo().catch((e) =>
        this.c.ports.log("error", "could not undo a join", { roomId, ...errorFields(e) }),
      );
      throw err;
    }
    await this.c.ports.rooms.advanceReadPosition(roomId, actor.userId, seq);
  }
}
