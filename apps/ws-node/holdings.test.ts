import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { Room } from "../../lib/store/types.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/**
 * Everything a client can make the node hold is bounded per connection and per user (issue 13,
 * row 1): transaction frames (bytes and counts, and a SEND is vetted when it enters a
 * transaction), subscriptions, unacknowledged messages.
 */
let h: WsHarness;
let room: Room;
let member: { token: string; id: string };
let outsider: { token: string; id: string };

beforeAll(async () => {
  h = await startWsHarness({
    SEND_RATE_PER_SEC: "10000",
    SEND_BURST: "10000",
    STOMP_TX_FRAMES_PER_CONNECTION: "50",
    STOMP_TX_BYTES_PER_CONNECTION: "8192",
    STOMP_TX_BYTES_PER_USER: "12288",
    MAX_SUBSCRIPTIONS_PER_CONNECTION: "2",
    STOMP_SUBSCRIPTIONS_PER_USER: "3",
    STOMP_PENDING_ACKS_PER_CONNECTION: "3",
    MESSAGE_MAX_CHARS: "4000",
  });
  const m = await h.user("member");
  const o = await h.user("outsider");
  member = { token: m.token, id: m.user.id };
  outsider = { token: o.token, id: o.user.id };
  room = await h.room(m.user.id);
});
afterAll(() => h.stop());

const dest = () => `/topic/rooms/${room.id}`;
const text = (n: number) => JSON.stringify({ text: "x".repeat(n) });
const isError = (f: Frame) => f.command === "ERROR";

async function listening(token: string): Promise<RawStomp> {
  const c = await RawStomp.connect(h.url, token);
  c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors", receipt: "e" });
  await c.next((f) => f.command === "RECEIPT");
  return c;
}

describe("transactions", () => {
  test("a SEND is vetted when it enters a transaction: a non-member is refused at once, nothing is held", async () => {
    const c = await listening(outsider.token);
    c.sendFrame("BEGIN", { transaction: "t" });
    for (let i = 0; i < 20; i++) {
      c.sendFrame("SEND", { destination: dest(), transaction: "t", receipt: `s${i}` }, text(100));
    }
    for (let i = 0; i < 20; i++) {
      const notice = await c.next((f) => f.command === "MESSAGE" && f.headers["receipt-id"] === `s${i}`);
      expect(JSON.parse(c.body(notice)).code).toBe("forbidden");
    }
    expect(h.node.endpoint.ledgerOf(outsider.id)?.usage("transactions")).toEqual({ count: 0, bytes: 0 });
    // Without a notice subscription the refusal is an ERROR, still before any COMMIT.
    const d = await RawStomp.connect(h.url, outsider.token);
    d.sendFrame("BEGIN", { transaction: "t" });
    d.sendFrame("SEND", { destination: dest(), transaction: "t" }, text(10));
    expect((await d.next(isError)).headers.message).toBe(`not a member of room ${room.id}`);
    await d.closed;
    // An invalid body is refused at entry too.
    const e = await listening(member.token);
    e.sendFrame("BEGIN", { transaction: "t" });
    e.sendFrame("SEND", { destination: dest(), transaction: "t", receipt: "bad" }, "{nope");
    const bad = await e.next((f) => f.command === "MESSAGE" && f.headers["receipt-id"] === "bad");
    expect(JSON.parse(e.body(bad)).code).toBe("invalid_message");
    c.close();
    e.close();
  });

  test("a connection's transactions are bounded in bytes: ERROR naming the bound, then close", async () => {
    const c = await RawStomp.connect(h.url, member.token);
    c.sendFrame("BEGIN", { transaction: "t" });
    for (let i = 0; i < 10; i++) c.sendFrame("SEND", { destination: dest(), transaction: "t" }, text(2000));
    const f = await c.next(isError);
    expect(f.headers.message).toBe("limit exceeded: transaction frames");
    expect(c.body(f)).toContain("8192 bytes per connection");
    await c.closed;
    await eventually(() => h.node.endpoint.ledgerOf(member.id) === undefined, "ledger released");
  });

  test("one user's connections share a per-user bound", async () => {
    const a = await RawStomp.connect(h.url, member.token);
    const b = await RawStomp.connect(h.url, member.token);
    a.sendFrame("BEGIN", { transaction: "t" });
    for (let i = 0; i < 3; i++) a.sendFrame("SEND", { destination: dest(), transaction: "t" }, text(2000));
    a.sendFrame("BEGIN", { transaction: "u", receipt: "held" });
    await a.next((f) => f.command === "RECEIPT");
    b.sendFrame("BEGIN", { transaction: "t" });
    for (let i = 0; i < 3; i++) b.sendFrame("SEND", { destination: dest(), transaction: "t" }, text(2000));
    const f = await b.next(isError);
    expect(f.headers.message).toBe("limit exceeded: transaction frames");
    expect(b.body(f)).toContain("per user on this node");
    // COMMIT runs what was held and gives its room back.
    a.sendFrame("COMMIT", { transaction: "t", receipt: "c" });
    await a.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "c");
    expect(h.node.endpoint.ledgerOf(member.id)?.usage("transactions").count).toBe(0);
    a.close();
  });
});

describe("subscriptions and unacknowledged messages", () => {
  test("subscriptions are bounded per connection and per user", async () => {
    const a = await RawStomp.connect(h.url, member.token);
    for (const id of ["1", "2"]) a.sendFrame("SUBSCRIBE", { id, destination: dest(), receipt: id });
    for (const id of ["1", "2"])
      await a.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === id);
    const b = await RawStomp.connect(h.url, member.token);
    b.sendFrame("SUBSCRIBE", { id: "3", destination: dest(), receipt: "3" });
    await b.next((f) => f.command === "RECEIPT");
    b.sendFrame("SUBSCRIBE", { id: "4", destination: dest() });
    const f = await b.next(isError);
    expect(f.headers.message).toBe("limit exceeded: subscriptions");
    expect(b.body(f)).toContain("per user");
    a.close();
    await a.closed;
  });

  test("unacknowledged messages are bounded per connection across its subscriptions (slow consumer)", async () => {
    const reader = await RawStomp.connect(h.url, member.token);
    for (const id of ["p", "q"]) {
      reader.sendFrame("SUBSCRIBE", { id, destination: dest(), ack: "client", receipt: id });
      await reader.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === id);
    }
    const sender = await RawStomp.connect(h.url, member.token);
    for (let i = 0; i < 2; i++) sender.sendFrame("SEND", { destination: dest() }, text(5));
    const f = await reader.next(isError);
    expect(f.headers.message).toBe("slow consumer");
    expect((await reader.closed).code).toBe(4008);
    sender.close();
  });
});
