import { type Actor, type ChatContext, refOf } from "./context.ts";
import { ChatError, userNotFound } from "./errors.ts";
import { type MyRoom, UNREAD_COUNT_CAP } from "./rooms.ts";

/**
 * Direct messages: the one private room of two users, made on first use and found again after. It is
 * never listed or joinable by anyone else, and has no owner actions.
 */
export class DirectMessages {
  constructor(private readonly c: ChatContext) {}

  /** The DM with `peerId`, as the caller's room list shows it; `created` when this call made it. */
  async open(actor: Actor, peerId: string): Promise<{ room: MyRoom; created: boolean }> {
    if (peerId === actor.userId) {
      throw new ChatError("invalid", "dm_self", "a direct message needs another user");
    }
    await this.c.activeActor(actor);
    const { users, rooms, backlog } = this.c.ports;
    const peer = await users.findById(peerId);
    if (!peer) throw userNotFound();
    const opened = await this.c.store(rooms.openDm(actor.userId, peerId));
    const { room } = opened;
    let readPosition = (await rooms.getReadPosition(room.id, actor.userId)) ?? 0;
    if (opened.rejoined) {
      // Back in a DM they had left: what was said meanwhile is history, not unread.
      readPosition = await backlog.lastSeq(room.id);
      await rooms.advanceReadPosition(room.id, actor.userId, readPosition);
      await this.c.inform({ type: "member-joined", roomId: room.id, userId: actor.userId, room });
    }
    const peerRef = { id: peer.id, username: peer.username };
    if (opened.created) {
      await this.c.inform({ type: "dm-opened", roomId: room.id, room, users: [refOf(actor), peerRef] });
    }
    const [unread, lastSeq] = await Promise.all([
      backlog.unreadCounts(actor.userId, new Map([[room.id, readPosition]]), UNREAD_COUNT_CAP),
      backlog.lastSeq(room.id),
    ]);
    const unreadCount = unread.get(room.id) ?? 0;
    return {
      room: {
        ...room,
        readPosition,
        unreadCount,
        unreadCountCapped: unreadCount >= UNREAD_COUNT_CAP,
        lastSeq,
        peer: peerRef,
      },
      created: opened.created,
    };
  }
}
