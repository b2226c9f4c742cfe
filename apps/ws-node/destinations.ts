/** STOMP destinations of the messaging node. */
const ROOM_PREFIX = "/topic/rooms/";
const ROOM_ID = /^[0-9A-Za-z_-]{1,64}$/;

export function roomDestination(roomId: string): string {
  return ROOM_PREFIX + roomId;
}

/** The room id of `/topic/rooms/<roomId>`, or undefined for any other destination. */
export function parseRoomDestination(destination: string): string | undefined {
  if (!destination.startsWith(ROOM_PREFIX)) return undefined;
  const id = destination.slice(ROOM_PREFIX.length);
  return ROOM_ID.test(id) ? id : undefined;
}
