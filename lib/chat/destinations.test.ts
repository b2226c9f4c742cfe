import { expect, test } from "bun:test";
import {
  parsePresenceDestination,
  parseRoomDestination,
  presenceDestination,
  roomDestination,
} from "./destinations.ts";

test("room and presence destinations round-trip, and nothing else parses as one", () => {
  expect(parseRoomDestination(roomDestination("01HZ-room_1"))).toBe("01HZ-room_1");
  expect(parsePresenceDestination(presenceDestination("r1"))).toBe("r1");
  expect(parseRoomDestination(presenceDestination("r1"))).toBeUndefined();
  expect(parsePresenceDestination(roomDestination("r1"))).toBeUndefined();
  for (const bad of [
    "/topic/rooms/",
    "/topic/rooms/a/typing",
    "/topic/rooms/../x",
    `/topic/rooms/${"a".repeat(65)}`,
  ]) {
    expect(parseRoomDestination(bad)).toBeUndefined();
  }
});
