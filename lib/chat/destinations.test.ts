import { expect, test } from "bun:test";
import {
  parsePresenceDestination,
  parseRoomDestination,
  parseSignalDestination,
  presenceDestination,
  roomDestination,
  signalDestination,
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

test("signal destinations name a room and a kind; nothing else parses as one", () => {
  expect(parseSignalDestination(signalDestination("r-1", "typing"))).toEqual({
    roomId: "r-1",
    kind: "typing",
  });
  expect(parseSignalDestination("/topic/rooms/r-1/read-receipts")).toEqual({
    roomId: "r-1",
    kind: "read-receipts",
  });
  for (const bad of [
    roomDestination("r-1"),
    "/topic/rooms/r-1/",
    "/topic/rooms/r-1/Typing",
    "/topic/rooms/r-1/typing/x",
    "/topic/rooms//typing",
    "/topic/presence/rooms/r-1",
    `/topic/rooms/r-1/${"a".repeat(33)}`,
  ]) {
    expect(parseSignalDestination(bad)).toBeUndefined();
  }
});
