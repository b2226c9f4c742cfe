/**
 * The STOMP destinations of rooms: messages at `/topic/rooms/<roomId>` (ws-node), rosters at
 * `/topic/presence/rooms/<roomId>` (presence-node). One parser for both.
 */
const ROOM_PREFIX = "/topic/rooms/";
const PRESENCE_PREFIX = "/topic/presence/rooms/";
const ROOM_ID = /^[0-9A-Za-z_-]{1,64}$/;

export function roomDestination(roomId: string): string {
  return ROOM_PREFIX + roomId;
}

export function presenceDestination(roomId: string): string {
  return PRESENCE_PREFIX + roomId;
}

/** The room id of `/topic/rooms/<roomId>`, or undefined for any other destination. */
export function parseRoomDestination(destination: string): string | undefined {
  return roomIdAfter(destination, ROOM_PREFIX);
}

/** The room id of `/topic/presence/rooms/<roomId>`, or undefined for any other destination. */
export function parsePresenceDestination(destination: string): string | undefined {
  return roomIdAfter(destination, PRESENCE_PREFIX);
}

function roomIdAfter(destination: string, prefix: string): string | undefined {
  if (!destination.startsWith(prefix)) return undefined;
  const id = destination.slice(prefix.length);
  return ROOM_ID.test(id) ? id : undefined;
}
