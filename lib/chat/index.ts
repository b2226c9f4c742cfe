/**
 * The chat domain: rooms, membership, messages and the events they produce. HTTP routes and STOMP
 * handlers are thin adapters over it; it works through ports only (stores, bus, backlog).
 */
import { ChatContext, type ChatPorts, type ChatSettings } from "./context.ts";
import { Messages } from "./messages.ts";
import { Rooms } from "./rooms.ts";

export type { Actor, ChatPorts, ChatSettings } from "./context.ts";
export { ChatError, type ChatErrorKind } from "./errors.ts";
export type { HistoryQuery } from "./messages.ts";
export type { MyRoom } from "./rooms.ts";

export interface Chat {
  rooms: Rooms;
  messages: Messages;
}

export function createChat(ports: ChatPorts, settings: ChatSettings): Chat {
  const context = new ChatContext(ports, settings);
  return { rooms: new Rooms(context), messages: new Messages(context) };
}
