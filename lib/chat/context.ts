import type { Backlog } from "../backlog/types.ts";
import { BusUnavailableError, type MessageBus } from "../bus/types.ts";
import type { IdempotentPublisher, Published } from "../delivery/publisher.ts";
import type { Logger } from "../log/index.ts";
import type { Room, RoomStore, UserStore } from "../store/types.ts";
import type { ControlEvent } from "./control.ts";
import { busUnavailable, notMember, roomNotFound, sendUnavailable } from "./errors.ts";
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
  backlog: Pick<Backlog, "after" | "before" | "countsAfter" | "lastSeq">;
  /** Appends members' messages once per client message id (lib/delivery); without it, the bus directly. */
  publisher?: Pick<IdempotentPublisher, "publish">;
  /**
   * Wraps the store calls made for a live connection's frames (SUBSCRIBE's membership, a SEND's): the
   * STOMP nodes bound them and refuse with a retry hint while the store is down (lib/chat/store-refusal.ts).
   */
  storeGuard?: <T>(call: Promise<T>, what: string) => Promise<T>;
  log: Logger;
}

export interface ChatSettings {
  /** Longest message text, in characters. */
  maxMessageChars: number;
}

/** What every part of the domain shares: the ports, the settings, and the steps each operation repeats. */
export class ChatContext {
  constructor(
    readonly ports: ChatPorts,
    readonly settings: ChatSettings,
  ) {}

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

  /** Appends to the room's log: resolves with the stamped line once the bus holds it durably. */
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
