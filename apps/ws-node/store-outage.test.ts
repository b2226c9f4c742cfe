import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { STORE_RETRY_AFTER_MS, STORE_WAIT_MS } from "../../lib/chat/store-refusal.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { Room, RoomStore } from "../../lib/store/types.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/**
 * The room store (Postgres in a cluster) failing or not answering while clients subscribe and send:
 * each frame that needs it is refused with `store_unavailable` and a retry hint — a notice when the
 * client listens on /user/queue/errors, else ERROR and close 1013 — never "internal error" and 1011,
 * never a hang. The store here is the embedded one with its calls made to fail, as a dead database's
 * driver fails them (connection refused) or hangs (a stalled connection).
 */
let h: WsHarness;
let room: Room;
let other: Room;
let alice: string;
const rooms = () => h.backends.stores.rooms as RoomStore & Record<string, unknown>;
const saved = new Map<string, unknown>();

/** Makes the store's calls reject (or never settle) until afterEach puts them back. */
function storeDown(how: "refused" | "silent", methods = ["getReadPosition", "isMember"]) {
  for (const m of methods) {
    saved.set(m, rooms()[m]);
    rooms()[m] = () =>
      how === "refused"
        ? Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"))
        : new Promise(() => {});
  }
}

beforeAll(async () => {
  h = await startWsHarness();
  const a = await h.user("alice");
  alice = a.token;
  room = await h.room(a.user.id);
  other = await h.room(a.user.id);
});
afterEach(() => {
  for (const [m, f] of saved) rooms()[m] = f;
  saved.clear();
});
afterAll(() => h.stop());

const json = (c: RawStomp, f: Frame) => JSON.parse(c.body(f)) as Record<string, unknown>;

describe("store outage", () => {
  test("SUBSCRIBE, listening for notices: a store_unavailable notice; the connection stays and a retry works", async () => {
    const c = await RawStomp.connect(h.url, alice);
    c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
    storeDown("refused");
    c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: `/topic/rooms/${room.id}`, receipt: "s1" });
    const notice = await c.next((f) => f.headers["receipt-id"] === "s1");
    expect(notice.command).toBe("MESSAGE");
    expect(json(c, notice)).toMatchObject({
      code: "store_unavailable",
      retryAfterMs: STORE_RETRY_AFTER_MS,
      subscription: "sub-0",
      destination: `/topic/rooms/${room.id}`,
    });
    expect(c.isClosed).toBe(false);

    for (const [m, f] of saved) rooms()[m] = f;
    saved.clear();
    c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: `/topic/rooms/${room.id}`, receipt: "s2" });
    expect((await c.next((f) => f.headers["receipt-id"] === "s2")).command).toBe("RECEIPT");
    c.close();
  });

  test("SUBSCRIBE without notices: ERROR with x-error-code and x-retry-after-ms, then close 1013", async () => {
    const c = await RawStomp.connect(h.url, alice);
    storeDown("refused");
    c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: `/topic/rooms/${room.id}`, receipt: "s1" });
    const error = await c.next((f) => f.command === "ERROR");
    expect(error.headers).toMatchObject({
      "receipt-id": "s1",
      "x-error-code": "store_unavailable",
      "x-retry-after-ms": String(STORE_RETRY_AFTER_MS),
    });
    expect(error.headers.message).not.toContain("internal");
    expect((await c.closed).code).toBe(1013);
  });

  test(
    "a store that does not answer: SUBSCRIBE is refused after the bound, not left hanging",
    async () => {
      const c = await RawStomp.connect(h.url, alice);
      c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
      storeDown("silent");
      const started = performance.now();
      c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: `/topic/rooms/${room.id}`, receipt: "s1" });
      const notice = await c.next((f) => f.headers["receipt-id"] === "s1", STORE_WAIT_MS + 5_000);
      expect(json(c, notice).code).toBe("store_unavailable");
      expect(performance.now() - started).toBeGreaterThanOrEqual(STORE_WAIT_MS - 50);
      c.close();
    },
    STORE_WAIT_MS + 10_000,
  );

  test("SEND to a room not subscribed on the connection: a store_unavailable notice for that SEND", async () => {
    const c = await RawStomp.connect(h.url, alice);
    c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
    storeDown("refused");
    c.sendFrame(
      "SEND",
      { destination: `/topic/rooms/${other.id}`, "content-type": "application/json", receipt: "m1" },
      JSON.stringify({ text: "hello" }),
    );
    const notice = await c.next((f) => f.headers["receipt-id"] === "m1");
    expect(notice.command).toBe("MESSAGE");
    expect(json(c, notice)).toMatchObject({ code: "store_unavailable", retryAfterMs: STORE_RETRY_AFTER_MS });
    c.close();
  });
});
