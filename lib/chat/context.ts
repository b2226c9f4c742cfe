import type { Backlog } from "../backlog/types.ts";
import { BusUnavailableError, type MessageBus } from "../bus/types.ts";
import type { IdempotentPublisher, Published } from "../delivery/publisher.ts";
import { errorFields, type Logger } from "../log/index.ts";
import type { KeyedLimiter } from "../ratelimit/types.ts";
import type { SignalBus } from "../signals/types.ts";
import type { Room, RoomStore, UserStore } from "../store/types.ts";
import type { ControlEvent } from "./control.ts";
import {
  busUnavailable,
  ChatError,
  dmRoom,
  notMember,
  notOwner,
  roomNotFound,
  sendUnavailable,
  storeRefusal,
} from "./errors.ts";
import type { LoggedMessage, MessageDraft, UserRef } from "./message.ts";

/** Who acts: the authenticated user, as a token or a STOMP session names them. */
export interface Actor {
  userId: string;
  username: string;
}

export const refOf = (a: Actor): UserRef => ({ id: a.userId, username: a.username });

/** The ports the chat domain works through; each process passes the adapters it opened. */
export interface ChatPorts {
  users: UserStore;
  rooms: RoomStore;
  bus: Pick<MessageBus, "publish" | "publishControl">;
  backlog: Pick<Backlog, "after" | "before" | "unreadCounts" | "lastSeq">;
  /** Appends members' messages once per client message id (lib/delivery); without it, the bus directly. */
  publisher?: Pick<IdempotentPublisher, "publish">;
  /**
   * Wraps the store calls made for a live connection's frames (SUBSCRIBE's membership, a SEND's): the
   * STOMP nodes bound them and refuse with a retry hint while the store is down (lib/chat/store-refusal.ts).
   */
  storeGuard?: <T>(call: Promise<T>, what: string) => Promise<T>;
  /** Ephemeral signals between nodes; only processes that serve STOMP have them. */
  signals?: SignalBus;
  /**
   * How many join and leave lines one user may put into one room's log (key "<roomId>:<userId>"), so
   * joining and leaving in a loop does not flood the members; past it, membership still changes but
   * without a line. Without it every join and leave has its line.
   */
  membershipLines?: KeyedLimiter;
  log: Logger;
}

export interface ChatSettings {
  /** Longest message text, in characters. */
  maxMessageChars: number;
  /** The installation's signing secret; invite links are signed with a key derived from it. */
  inviteSecret: Uint8Array;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
  /** How long an edit or delete waits for a just-sent message to reach the backlog. Default 3 000. */
  targetWaitMs?: number;
}

/** What every part of the domain shares: the ports, the settings, and the steps each operation repeats. */
export class ChatContext {
  readonly now: () => number;

  constructor(
    readonly ports: ChatPorts,
    readonly settings: ChatSettings,
  ) {
    this.now = settings.now ?? Date.now;
  }

  /** Runs a store call, reporting its refusals as the domain's. */
  async store<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      throw storeRefusal(err);
    }
  }

  /**
   * The room as `userId` may know of it: private rooms and DMs exist only for their members (anyone
   * else is told there is no such room, so their ids reveal nothing).
   */
  async visibleRoom(roomId: string, userId: string): Promise<{ room: Room; isMember: boolean }> {
    const room = await this.room(roomId);
    const isMember = await this.ports.rooms.isMember(roomId, userId);
    if (room.private && !isMember) throw roomNotFound();
    return { room, isMember };
  }

  /** A group room that `actor` owns, for owner actions; DMs have none. */
  async ownedRoom(roomId: string, actor: Actor, what: string): Promise<Room> {
    const { room } = await this.visibleRoom(roomId, actor.userId);
    if (room.kind === "dm") throw dmRoom();
    if (room.ownerId !== actor.userId) throw notOwner(what);
    return room;
  }

  /**
   * The acting user's account, which must still exist: a token outlives a deleted account (or a store
   * that lost the row), and acting for a user who is gone is refused (401 user_gone), never a crash on a
   * foreign key.
   */
  async activeActor(actor: Actor): Promise<void> {
    if (!(await this.ports.users.findById(actor.userId))) {
      throw new ChatError("gone", "user_gone", "this account no longer exists");
    }
  }

  /** Whether a join or leave line of this user may go into this room's log now (see membershipLines). */
  async lineAllowed(roomId: string, userId: string): Promise<boolean> {
    const limiter = this.ports.membershipLines;
    return !limiter || (await limiter.take(`${roomId}:${userId}`)) === 0;
  }

  /** The room, or not_found. */
  async room(roomId: string): Promise<Room> {
    const room = await this.ports.rooms.getRoom(roomId);
    if (!room) throw roomNotFound();
    return room;
  }

  /** The room, or not_found; forbidden unless the user belongs to it. */
  async memberRoom(roomId: string, userId: string): Promise<Room> {
    const room = await this.room(roomId);
    if (!(await this.ports.rooms.isMember(roomId, userId))) throw notMember();
    return room;
  }

  /**
   * Appends a member's message: once per client message id through the publisher when there is one,
   * refused as unavailable (saying whether it may have been stored) when the bus cannot take it.
   */
  async send(draft: MessageDraft): Promise<Published> {
    try {
      if (this.ports.publisher) return await this.ports.publisher.publish(draft);
      return { seq: (await this.ports.bus.publish(draft)).seq, duplicate: false };
    } catch (err) {
      if (err instanceof BusUnavailableError) {
        throw sendUnavailable(err.outcome, draft.clientMsgId !== undefined);
      }
      throw err;
    }
  }

  /** A store call made for a live connection: bounded and refused as the transport says (storeGuard). */
  fromStore<T>(call: Promise<T>, what: string): Promise<T> {
    return this.ports.storeGuard ? this.ports.storeGuard(call, what) : call;
  }

  async append(draft: MessageDraft): Promise<LoggedMessage> {
    try {
      return await this.ports.bus.publish(draft);
    } catch (err) {
      if (err instanceof BusUnavailableError) throw busUnavailable();
      throw err;
    }
  }

  /**
   * Tells every node about a change that only informs (live room lists): the change has happened, so a
   * bus that cannot take the event is logged rather than reported to the caller as a failure.
   */
  async inform(event: ControlEvent): Promise<void> {
    await this.ports.bus.publishControl(event).catch((err: unknown) => {
      this.ports.log("warn", "control event not published", { type: event.type, ...errorFields(err) });
    });
  }

  /** Tells every node; refused as unavailable when the bus cannot take it. */
  async control(event: ControlEvent): Promise<void> {
    try {
      await this.ports.bus.publishControl(event);
    } catch (err) {
      if (err instanceof BusUnavailableError) throw busUnavailable();
      throw err;
    }
  }
}
