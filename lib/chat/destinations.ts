/**
 * The STOMP destinations of the chat domain, and one parser for them: a room's messages at
 * `/topic/rooms/<roomId>` and its ephemeral signals at `/topic/rooms/<roomId>/<kind>` (ws-node), its
 * roster at `/topic/presence/rooms/<roomId>` (presence-node), and each user's live room list at
 * `/user/queue/events` (ws-node, on every connection of the user that subscribes).
 */
const ROOM_PREFIX = "/topic/rooms/";
const PRESENCE_PREFIX = "/topic/presence/rooms/";
const ROOM_ID = /^[0-9A-Za-z_-]{1,64}$/;
const SIGNAL = /^([0-9A-Za-z_-]{1,64})\/([a-z][a-z-]{0,31})$/;

/** Where a user's room-list events arrive: rooms joined, left, removed, deleted, renamed, new DMs, unread counts. */
export const USER_EVENTS_DESTINATION = "/user/queue/events";

export function roomDestination(roomId: string): string {
  return ROOM_PREFIX + roomId;
}

export function presenceDestination(roomId: string): string {
  return PRESENCE_PREFIX + roomId;
}

export function signalDestination(roomId: string, kind: string): string {
  return `${ROOM_PREFIX}${roomId}/${kind}`;
}

/** The room id of `/topic/rooms/<roomId>`, or undefined for any other destination. */
export function parseRoomDestination(destination: string): string | undefined {
  return roomIdAfter(destination, ROOM_PREFIX);
}

/** The room id of `/topic/presence/rooms/<roomId>`, or undefined for any other destination. */
export function parsePresenceDestination(destination: string): string | undefined {
  return roomIdAfter(destination, PRESENCE_PREFIX);
}

/**
 * The room and signal kind of `/topic/rooms/<roomId>/<kind>`, or undefined for any other destination.
 * Whether the kind exists is the caller's question (lib/chat/signals).
 */
export function parseSignalDestination(destination: string): { roomId: string; kind: string } | undefined {
  // A room's own destination (every chat SEND asks) has no second part: answered without the regex.
  if (!destination.startsWith(ROOM_PREFIX) || destination.indexOf("/", ROOM_PREFIX.length) < 0)
    return undefined;
  const m = SIGNAL.exec(destination.slice(ROOM_PREFIX.length));
  return m ? { roomId: m[1]!, kind: m[2]! } : undefined;
}

function roomIdAfter(destination: string, prefix: string): string | undefined {
  if (!destination.startsWith(prefix)) return undefined;
  const id = destination.slice(prefix.length);
  return ROOM_ID.test(id) ? id : undefined;
}
