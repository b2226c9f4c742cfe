import { afterAll, beforeAll, expect, test } from "bun:test";
import { presenceDestination } from "../../lib/chat/destinations.ts";
import { STORE_RETRY_AFTER_MS } from "../../lib/chat/store-refusal.ts";
import { silentLogger } from "../../lib/log/index.ts";
import { MemoryPresence } from "../../lib/presence/memory.ts";
import type { Room, RoomStore } from "../../lib/store/types.ts";
import { type PresenceHarness, startPresenceHarness } from "../../testkit/presence-harness.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

/**
 * The room store failing under the presence node, as under the chat node: a roster SUBSCRIBE is
 * refused with `store_unavailable` and a retry hint, never "internal error" (see
 * apps/ws-node/store-outage.test.ts for the bound on a store that does not answer).
 */
let h: PresenceHarness;
let room: Room;
let alice: string;
let members: RoomStore["members"];

beforeAll(async () => {
  h = await startPresenceHarness(new MemoryPresence(silentLogger));
  const a = await h.user("alice");
  alice = a.token;
  room = await h.stores.rooms.createRoom({ name: "presence", ownerId: a.user.id, maxMembers: 10 });
  members = h.stores.rooms.members;
});
afterAll(() => h.stop());

const storeDown = () => {
  h.stores.rooms.members = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
};
const storeUp = () => {
  h.stores.rooms.members = members;
};

test("roster SUBSCRIBE while the store is down: a store_unavailable notice, then a retry works", async () => {
  const c = await RawStomp.connect(h.url, alice);
  c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
  storeDown();
  c.sendFrame("SUBSCRIBE", { id: "p-0", destination: presenceDestination(room.id), receipt: "s1" });
  const notice = await c.next((f) => f.headers["receipt-id"] === "s1");
  expect(notice.command).toBe("MESSAGE");
  expect(JSON.parse(c.body(notice))).toMatchObject({
    code: "store_unavailable",
    retryAfterMs: STORE_RETRY_AFTER_MS,
    subscription: "p-0",
  });
  storeUp();
  c.sendFrame("SUBSCRIBE", { id: "p-0", destination: presenceDestination(room.id), receipt: "s2" });
  expect((await c.next((f) => f.headers["receipt-id"] === "s2")).command).toBe("RECEIPT");
  const snapshot = await c.next((f) => f.command === "MESSAGE" && f.headers.subscription === "p-0");
  expect(JSON.parse(c.body(snapshot)).type).toBe("snapshot");
  c.close();
});

test("roster SUBSCRIBE without notices: ERROR store_unavailable and close 1013, not 1011", async () => {
  const c = await RawStomp.connect(h.url, alice);
  storeDown();
  try {
    c.sendFrame("SUBSCRIBE", { id: "p-0", destination: presenceDestination(room.id), receipt: "s1" });
    const error = await c.next((f) => f.command === "ERROR");
    expect(error.headers["x-error-code"]).toBe("store_unavailable");
    expect((await c.closed).code).toBe(1013);
  } finally {
    storeUp();
  }
});
