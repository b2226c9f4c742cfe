import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Room } from "../../lib/store/types.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

let h: WsHarness;
let room: Room;
let alice: { token: string; id: string; username: string };
let bob: { token: string; id: string };
let outsider: string;

beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "1", SEND_BURST: "5", MESSAGE_MAX_CHARS: "20" });
  const a = await h.user("alice");
  const b = await h.user("bob");
  alice = { token: a.token, id: a.user.id, username: a.user.username };
  bob = { token: b.token, id: b.user.id };
  outsider = (await h.user("eve")).token;
  room = await h.room(a.user.id);
  await h.join(room.id, b.user.id);
});
afterAll(() => h.stop());

/** A live MESSAGE, not one replayed as missed. */
const liveMessage = (f: { command: string; headers: Record<string, string> }) =>
  f.command === "MESSAGE" && f.headers["x-replay"] !== "true";
const dest = () => `/topic/rooms/${room.id}`;
const send = (c: RawStomp, text: string, extra: Record<string, string> = {}) =>
  c.sendFrame(
    "SEND",
    { destination: dest(), "content-type": "application/json", ...extra },
    JSON.stringify({ text }),
  );

async function subscribed(
  token: string,
  id = "sub-0",
  extra: Record<string, string> = {},
): Promise<RawStomp> {
  const c = await RawStomp.connect(h.url, token);
  c.sendFrame("SUBSCRIBE", { id, destination: dest(), receipt: `r-${id}`, ...extra });
  const r = await c.next((f) => f.command === "RECEIPT" || f.command === "ERROR");
  if (r.command !== "RECEIPT") throw new Error(`subscribe failed: ${r.headers.message}`);
  return c;
}

describe("room messaging", () => {
  test("members receive stamped messages in order with their own subscription id", async () => {
    const a = await subscribed(alice.token, "sub-0");
    const b = await subscribed(bob.token, "mine-7");
    for (const text of ["one", "two", "three"]) send(a, text, { receipt: `s-${text}` });
    for (const text of ["one", "two", "three"]) {
      expect((await a.next((f) => f.command === "RECEIPT")).headers["receipt-id"]).toBe(`s-${text}`);
    }
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await b.next((f) => f.command === "MESSAGE"));
    const bodies = got.map((f) => JSON.parse(b.body(f)));
    expect(bodies.map((m) => m.text)).toEqual(["one", "two", "three"]);
    expect(bodies[0]).toMatchObject({
      roomId: room.id,
      type: "message",
      sender: { id: alice.id, username: alice.username },
    });
    expect(bodies[0].seq).toBeLessThan(bodies[1].seq);
    expect(bodies[1].seq).toBeLessThan(bodies[2].seq);
    expect(Number.isNaN(Date.parse(bodies[0].sentAt))).toBe(false);
    const f = got[0]!;
    expect(f.headers.destination).toBe(dest());
    expect(f.headers.subscription).toBe("mine-7");
    expect(f.headers["message-id"]).toBe(bodies[0].id);
    expect(f.headers["content-type"]).toBe("application/json");
    expect(Number(f.headers["content-length"])).toBe(f.body.length);
    expect(f.headers.ack).toBeUndefined();
    // The sender gets its own message too, under its own subscription id.
    const own = await a.next((x) => x.command === "MESSAGE");
    expect(own.headers.subscription).toBe("sub-0");
    a.close();
    b.close();
  });

  test("a non-member cannot subscribe", async () => {
    const c = await RawStomp.connect(h.url, outsider);
    c.sendFrame("SUBSCRIBE", { id: "s", destination: dest(), receipt: "x" });
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toBe("forbidden");
    expect(f.headers["receipt-id"]).toBe("x");
    await c.closed;
  });

  test("unknown destinations are refused", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("SUBSCRIBE", { id: "s", destination: "/queue/whatever" });
    expect((await c.next()).headers.message).toBe("unknown destination");
    await c.closed;
  });

  test("a non-member's SEND is refused, as a notice when listening on /user/queue/errors", async () => {
    const c = await RawStomp.connect(h.url, outsider);
    c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
    send(c, "hi", { receipt: "s1" });
    const n = await c.next();
    expect(n.command).toBe("MESSAGE");
    expect(n.headers.destination).toBe("/user/queue/errors");
    expect(n.headers["receipt-id"]).toBe("s1");
    expect(JSON.parse(c.body(n)).code).toBe("forbidden");
    expect(c.isClosed).toBe(false);
    c.close();
  });

  test.each([
    ["not JSON", "hello"],
    ["blank text", JSON.stringify({ text: "   " })],
    ["too long", JSON.stringify({ text: "x".repeat(21) })],
    ["extra fields", JSON.stringify({ text: "ok", admin: true })],
  ])("invalid body (%s): ERROR when not listening for notices", async (_name, body) => {
    const c = await RawStomp.connect(h.url, bob.token);
    c.sendFrame("SEND", { destination: dest(), receipt: "r" }, body);
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers["receipt-id"]).toBe("r");
    await c.closed;
  });

  test("SEND over the rate limit is refused with retryAfterMs", async () => {
    const { user, token } = await h.user("chatty");
    await h.join(room.id, user.id);
    const c = await RawStomp.connect(h.url, token);
    c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
    for (let i = 0; i < 6; i++) send(c, `m${i}`, { receipt: `r${i}` });
    const receipts = [];
    for (let i = 0; i < 5; i++) receipts.push(await c.next((f) => f.command === "RECEIPT"));
    expect(receipts.map((r) => r.headers["receipt-id"])).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    const n = await c.next((f) => f.command === "MESSAGE");
    const notice = JSON.parse(c.body(n));
    expect(notice.code).toBe("rate_limited");
    expect(notice.retryAfterMs).toBeGreaterThan(0);
    expect(n.headers["receipt-id"]).toBe("r5");
    c.close();
  });
});

describe("protocol errors", () => {
  test("unknown command", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("FLY", { receipt: "z" });
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toBe("unknown command");
    expect(f.headers["receipt-id"]).toBe("z");
    await c.closed;
  });

  test("duplicate subscription id", async () => {
    const c = await subscribed(alice.token, "dup");
    c.sendFrame("SUBSCRIBE", { id: "dup", destination: dest() });
    expect((await c.next((f) => f.command === "ERROR")).headers.message).toBe("duplicate subscription id");
    await c.closed;
  });

  test("UNSUBSCRIBE of an unknown subscription", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("UNSUBSCRIBE", { id: "nope" });
    expect((await c.next()).headers.message).toBe("unknown subscription");
    await c.closed;
  });

  test("ACK with an id that was never delivered", async () => {
    const c = await subscribed(alice.token, "c1", { ack: "client" });
    c.sendFrame("ACK", { id: "c1@999999" });
    expect((await c.next((f) => f.command === "ERROR")).headers.message).toBe("invalid ack id");
    await c.closed;
  });

  test("a frame past the size limit gets an ERROR naming the limit", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("SEND", { destination: dest() }, "x".repeat(h.config.STOMP_MAX_BODY_BYTES + 1));
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toStartWith("limit exceeded: ");
    expect((await c.closed).code).toBe(1009);
  });

  test("garbage without a NUL is cut off once past the buffer limit", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    const chunk = "A".repeat(8192);
    for (let i = 0; i * chunk.length <= h.config.STOMP_MAX_FRAME_BYTES; i++) c.send(chunk);
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toStartWith("limit exceeded");
    await c.closed;
  });

  test("a malformed frame: ERROR then close", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.send("SEND\ndestination\n\n\u0000");
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toBe("malformed frame");
    expect((await c.closed).code).toBe(1002);
  });
});

describe("receipts, transactions, disconnect", () => {
  test("frames split across WebSocket messages, and several in one", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    const sub = `SUBSCRIBE\nid:s\ndestination:${dest()}\nreceipt:a\n\n\u0000`;
    for (const piece of sub.match(/.{1,5}/gs)!) c.send(piece);
    const receipt = (f: { command: string }) => f.command === "RECEIPT";
    expect((await c.next(receipt)).headers["receipt-id"]).toBe("a");
    c.send(
      "\n\nUNSUBSCRIBE\nid:s\nreceipt:b\n\n\u0000\r\nSUBSCRIBE\r\nid:t\r\ndestination:/topic/rooms/" +
        room.id +
        "\r\nreceipt:c\r\n\r\n\u0000\n",
    );
    expect((await c.next(receipt)).headers["receipt-id"]).toBe("b");
    expect((await c.next(receipt)).headers["receipt-id"]).toBe("c");
    c.close();
  });

  test("COMMIT delivers the transaction's SENDs; ABORT drops them", async () => {
    const watcher = await subscribed(bob.token, "w");
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("BEGIN", { transaction: "t1" });
    send(c, "tx-a", { transaction: "t1" });
    send(c, "tx-b", { transaction: "t1" });
    c.sendFrame("BEGIN", { transaction: "t2" });
    send(c, "tx-dropped", { transaction: "t2" });
    c.sendFrame("ABORT", { transaction: "t2" });
    c.sendFrame("COMMIT", { transaction: "t1", receipt: "done" });
    expect((await c.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "done")).command).toBe(
      "RECEIPT",
    );
    const texts = [];
    for (let i = 0; i < 2; i++) texts.push(JSON.parse(watcher.body(await watcher.next(liveMessage))).text);
    expect(texts).toEqual(["tx-a", "tx-b"]);
    // Send one more outside: the aborted one must not have slipped in before it.
    send(c, "after");
    expect(JSON.parse(watcher.body(await watcher.next(liveMessage))).text).toBe("after");
    c.close();
    watcher.close();
  });

  test("BEGIN twice and COMMIT of an unknown transaction are errors", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("BEGIN", { transaction: "t" });
    c.sendFrame("BEGIN", { transaction: "t" });
    expect((await c.next()).headers.message).toBe("transaction already started");
    const d = await RawStomp.connect(h.url, alice.token);
    d.sendFrame("COMMIT", { transaction: "ghost" });
    expect((await d.next()).headers.message).toBe("unknown transaction");
    d.close();
  });

  test("an open transaction is aborted when the connection drops", async () => {
    const watcher = await subscribed(bob.token, "w2");
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("BEGIN", { transaction: "t" });
    send(c, "never", { transaction: "t" });
    c.close();
    await c.closed;
    const d = await RawStomp.connect(h.url, alice.token);
    send(d, "marker", { receipt: "m" });
    await d.next((f) => f.command === "RECEIPT");
    expect(JSON.parse(watcher.body(await watcher.next(liveMessage))).text).toBe("marker");
    d.close();
    watcher.close();
  });

  test("DISCONNECT with receipt: RECEIPT, then a normal close", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("DISCONNECT", { receipt: "bye" });
    const f = await c.next();
    expect(f.command).toBe("RECEIPT");
    expect(f.headers["receipt-id"]).toBe("bye");
    expect((await c.closed).code).toBe(1000);
  });
});

describe("membership changes on live subscriptions", () => {
  test("removed member: the subscription ends with a notice, the connection stays", async () => {
    const { user, token } = await h.user("leaver");
    await h.join(room.id, user.id);
    const c = await RawStomp.connect(h.url, token);
    c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
    c.sendFrame("SUBSCRIBE", { id: "room", destination: dest(), receipt: "in" });
    await c.next((f) => f.command === "RECEIPT");
    await h.backends.stores.rooms.leave(room.id, user.id);
    await h.backends.bus.publishControl({
      type: "member-removed",
      roomId: room.id,
      userId: user.id,
      reason: "left",
    });
    const n = await c.next((f) => f.command === "MESSAGE" && f.headers.destination === "/user/queue/errors");
    expect(JSON.parse(c.body(n))).toMatchObject({ code: "subscription_revoked", subscription: "room" });
    // No more room messages reach it, and the subscription id is free again.
    const a = await RawStomp.connect(h.url, alice.token);
    send(a, "after removal", { receipt: "x" });
    await a.next((f) => f.command === "RECEIPT");
    c.sendFrame("UNSUBSCRIBE", { id: "room" });
    expect((await c.next((f) => f.command === "ERROR")).headers.message).toBe("unknown subscription");
    expect(
      c.take("MESSAGE").filter((f) => f.headers.destination === dest() && !f.headers["x-replay"]),
    ).toHaveLength(0);
    a.close();
  });

  test("room deleted: a subscriber not listening for notices gets ERROR and is closed", async () => {
    const { user, token } = await h.user("owner2");
    const doomed = await h.room(user.id);
    const c = await RawStomp.connect(h.url, token);
    c.sendFrame("SUBSCRIBE", { id: "room", destination: `/topic/rooms/${doomed.id}`, receipt: "in" });
    await c.next((f) => f.command === "RECEIPT");
    await h.backends.bus.publishControl({ type: "room-deleted", roomId: doomed.id });
    const e = await c.next((f) => f.command === "ERROR");
    expect(e.headers.message).toBe("subscription revoked");
    await c.closed;
  });
});

describe("hostile input", () => {
  test("random bytes before and after CONNECT never take the server down", async () => {
    const fc = await import("fast-check");
    const chunks = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 2048 }), { numRuns: 60, seed: 42 });
    for (const [i, chunk] of chunks.entries()) {
      const c = i % 2 === 0 ? await RawStomp.open(h.url) : await RawStomp.connect(h.url, bob.token);
      c.send(chunk);
      c.send(chunk.slice(0, chunk.length >> 1));
      // Either the bytes were an incomplete frame (the connection waits) or it got an ERROR and closed.
      await Promise.race([c.closed, Bun.sleep(20)]);
      c.close();
    }
    const ok = await RawStomp.connect(h.url, alice.token);
    ok.sendFrame("SUBSCRIBE", { id: "alive", destination: dest(), receipt: "alive" });
    expect((await ok.next((f) => f.command === "RECEIPT")).headers["receipt-id"]).toBe("alive");
    ok.close();
  });
});
