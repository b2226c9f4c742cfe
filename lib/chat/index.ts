/**
 * The chat domain: rooms, membership, messages and the events they produce. HTTP routes and STOMP
 * handlers are thin adapters over it; it works through ports only (stores, bus, backlog).
 */
import { RoomAdmin } from "./admin.ts";
import { ChatContext, type ChatPorts, type ChatSettings } from "./context.ts";
import { DirectMessages } from "./dms.ts";
import { InviteTokens } from "./invites.ts";
import { Messages } from "./messages.ts";
import { Rooms } from "./rooms.ts";
import { SIGNAL_KINDS } from "./signals/index.ts";
import { Signals } from "./signals/service.ts";
import { Users } from "./users.ts";

export { INVITE_DEFAULT_TTL_SEC } from "./admin.ts";
export type { Actor, ChatPorts, ChatSettings } from "./context.ts";
export { ChatError, type ChatErrorKind } from "./errors.ts";
export type { HistoryQuery } from "./messages.ts";
export type { MyRoom, NewRoom } from "./rooms.ts";
export { SIGNAL_KINDS, type SignalBody, type SignalKind, type SignalState } from "./signals/index.ts";

export interface Chat {
  rooms: Rooms;
  admin: RoomAdmin;
  dms: DirectMessages;
  messages: Messages;
  signals: Signals;
  users: Users;
}

export function createChat(ports: ChatPorts, settings: ChatSettings): Chat {
  const context = new ChatContext(ports, settings);
  const invites = new InviteTokens(settings.inviteSecret);
  const signals = new Signals(context, ports.signals, SIGNAL_KINDS);
  const rooms = new Rooms(context, invites);
  return {
    rooms,
    admin: new RoomAdmin(context, invites),
    dms: new DirectMessages(context),
    messages: new Messages(context, (roomId, userId) => signals.messageSent(roomId, userId)),
    signals,
    users: new Users(context, rooms),
  };
}
