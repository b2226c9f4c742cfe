import type { Ban, Room, RoomChanges } from "../store/types.ts";
import { type Actor, type ChatContext, refOf } from "./context.ts";
import { ChatError, userNotFound } from "./errors.ts";
import type { InviteTokens } from "./invites.ts";
import { newDraft, type RoomUpdate } from "./message.ts";

/** Invite links last 7 days unless the owner asks for less or more (up to 30 days). */
export const INVITE_DEFAULT_TTL_SEC = 7 * 86_400;

/**
 * What a room's owner does: rename and describe it, change its cap and privacy, remove and ban
 * members, hand it over, and make or revoke invite links. Every change is checked atomically with the
 * store write (a cap change against joins, an owner action against another owner action), then told
 * to the room (an update or leave line in its log) and to every node (a control event).
 */
export class RoomAdmin {
  constructor(
    private readonly c: ChatContext,
    private readonly invites: InviteTokens,
  ) {}

  async update(actor: Actor, roomId: string, changes: RoomChanges): Promise<Room> {
    const before = await this.c.ownedRoom(roomId, actor, "change this room");
    const room = await this.c.store(this.c.ports.rooms.updateRoom(roomId, actor.userId, changes));
    const changed = changedFields(before, room);
    if (Object.keys(changed).length > 0) {
      await this.c.append(
        newDraft(roomId, "update", refOf(actor), describe(actor.username, changed), { changes: changed }),
      );
      await this.c.inform({ type: "room-updated", roomId, room });
    }
    return room;
  }

  /** Removes a member (with `ban`, also keeps them from joining again); their live subscriptions end at once. */
  async remove(actor: Actor, roomId: string, userId: string, opts: { ban: boolean }): Promise<void> {
    await this.c.ownedRoom(roomId, actor, opts.ban ? "ban members" : "remove members");
    if (userId === actor.userId) {
      throw new ChatError("invalid", "cannot_remove_self", "the owner leaves the room instead");
    }
    const target = await this.c.ports.users.findById(userId);
    if (!target) throw userNotFound();
    const { removed } = await this.c.store(
      this.c.ports.rooms.removeMember(roomId, actor.userId, userId, opts.ban),
    );
    if (!removed) {
      if (opts.ban) return; // a ban of a non-member: nothing live to end, nothing for the room to read
      throw new ChatError("not_found", "not_member", "that user is not a member of this room");
    }
    const reason = opts.ban ? "banned" : "removed";
    await this.c.control({ type: "member-removed", roomId, userId, reason });
    const text = `${target.username} was ${reason} by ${actor.username}`;
    await this.c.append(
      newDraft(roomId, "leave", { id: target.id, username: target.username }, text, { by: refOf(actor) }),
    );
  }

  async unban(actor: Actor, roomId: string, userId: string): Promise<void> {
    await this.c.ownedRoom(roomId, actor, "lift bans");
    if (!(await this.c.store(this.c.ports.rooms.unban(roomId, actor.userId, userId)))) {
      throw new ChatError("not_found", "not_banned", "that user is not banned from this room");
    }
  }

  async bans(actor: Actor, roomId: string): Promise<Ban[]> {
    await this.c.ownedRoom(roomId, actor, "see the bans");
    return this.c.ports.rooms.bans(roomId);
  }

  /** Hands the room to another member; the update line names the new owner. */
  async transfer(actor: Actor, roomId: string, toUserId: string): Promise<Room> {
    await this.c.ownedRoom(roomId, actor, "hand over this room");
    if (toUserId === actor.userId)
      throw new ChatError("invalid", "already_owner", "you own this room already");
    const heir = await this.c.ports.users.findById(toUserId);
    if (!heir) throw userNotFound();
    const room = await this.c.store(this.c.ports.rooms.transferOwnership(roomId, actor.userId, toUserId));
    const text = `${actor.username} made ${heir.username} the owner`;
    await this.c.append(newDraft(roomId, "update", refOf(actor), text, { changes: { ownerId: heir.id } }));
    await this.c.inform({ type: "room-updated", roomId, room });
    return room;
  }

  /** A signed link to the room that expires after `ttlSec` and stops working when invites are revoked. */
  async invite(
    actor: Actor,
    roomId: string,
    ttlSec = INVITE_DEFAULT_TTL_SEC,
  ): Promise<{ token: string; expiresAt: string }> {
    await this.c.ownedRoom(roomId, actor, "invite");
    const generation = await this.c.ports.rooms.inviteGeneration(roomId);
    if (generation === null) throw new ChatError("not_found", "room_not_found", "no such room");
    const expiresAt = Math.floor(this.c.now() / 1000) + ttlSec;
    return {
      token: this.invites.issue({ roomId, generation, expiresAt }),
      expiresAt: new Date(expiresAt * 1000).toISOString(),
    };
  }

  /** Every invite link made so far stops working. */
  async revokeInvites(actor: Actor, roomId: string): Promise<void> {
    await this.c.ownedRoom(roomId, actor, "revoke invites");
    await this.c.store(this.c.ports.rooms.revokeInvites(roomId, actor.userId));
  }
}

/** The fields that differ after an update: what the update line reports. */
function changedFields(before: Room, after: Room): RoomUpdate {
  const changed: RoomUpdate = {};
  if (after.name !== before.name) changed.name = after.name;
  if (after.description !== before.description) changed.description = after.description;
  if (after.maxMembers !== before.maxMembers) changed.maxMembers = after.maxMembers;
  if (after.private !== before.private) changed.private = after.private;
  return changed;
}

/** The update line as people read it. */
function describe(who: string, c: RoomUpdate): string {
  const parts: string[] = [];
  if (c.name !== undefined) parts.push(`renamed the room to "${c.name}"`);
  if (c.description !== undefined)
    parts.push(c.description ? "changed the description" : "removed the description");
  if (c.maxMembers !== undefined) parts.push(`set the member limit to ${c.maxMembers}`);
  if (c.private !== undefined) parts.push(c.private ? "made the room private" : "made the room public");
  return `${who} ${parts.join(", ")}`;
}
