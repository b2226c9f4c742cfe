import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { Room } from "../../lib/store/types.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/** Read receipts over STOMP: members' read positions, coalesced, and a setting to keep one's own private. */
let h: WsHarness;
let room: Room;
type Member = { token: string; id: string; username: string };
let alice: Member;
let bob: Member;
let carol: Member;

beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "100", SEND_BURST: "100" });
  const member = (x: Awaited<ReturnType<WsHarness["user"]>>): Member => ({
    token: x.token,
    id: x.user.id,
    username: x.user.username,
  });
  alice = member(await h.user("alice"));
  bob = member(await h.user("bob"));
  carol = member(await h.user("carol"));
  room = await h.room(alice.id);
  await h.join(room.id, bob.id);
  await h.join(room.id, carol.id);
});
afterAll(() => h.stop());

const receiptsDest = () => `/topic/rooms/${room.id}/receipts`;
const isReceipts = (f: Frame) => f.command === "MESSAGE" && f.headers.destination === receiptsDest();
const body = (f: Frame) => JSON.parse(new TextDecoder().decode(f.body));
type Positions = { userId: string; seq: number }[];

async function connect(m: Member, subs: Record<string, string>): Promise<RawStomp> {
  const c = await RawStomp.connect(h.url, m.token);
  c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
  for (const [id, destination] of Object.entries(subs)) {
    c.sendFrame("SUBSCRIBE", { id, destination, receipt: id });
    await c.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === id);
  }
  return c;
}

async function say(c: RawStomp, text: string): Promise<void> {
  c.sendFrame("SEND", { destination: `/topic/rooms/${room.id}`, receipt: text }, JSON.stringify({ text }));
  await c.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === text);
}

describe("read receipts", () => {
  test("a subscriber first gets every member's position, then the positions that move, coalesced", async () => {
    const a = await connect(alice, { room: `/topic/rooms/${room.id}`, receipts: receiptsDest() });
    const snapshot = body(await a.next(isReceipts));
    expect(snapshot.type).toBe("receipts");
    expect((snapshot.positions as Positions).map((p) => p.userId).sort()).toEqual(
      [alice.id, bob.id, carol.id].sort(),
    );
    const b = await connect(bob, { room: `/topic/rooms/${room.id}` });
    for (let i = 0; i < 20; i++) await say(a, `m${i}`);
    let last = 0;
    for (let i = 0; i < 20; i++)
      last = Math.max(last, body(await b.next((f) => f.command === "MESSAGE")).seq);
    // Bob's reading reaches alice as his position, up to the last message, within a couple of seconds.
    const seen: Positions[] = [];
    await eventually(
      async () => {
        for (const f of a.take("MESSAGE").filter(isReceipts)) seen.push(body(f).positions);
        return seen.flat().some((p) => p.userId === bob.id && p.seq >= last);
      },
      "bob's receipt",
      8_000,
    );
    // 20 messages read within a moment come as a couple of frames, each naming a member once.
    expect(seen.length).toBeLessThanOrEqual(4);
    for (const positions of seen) {
      expect(new Set(positions.map((p) => p.userId)).size).toBe(positions.length);
    }
    expect(await h.backends.stores.rooms.getReadPosition(room.id, bob.id)).toBe(last);
    a.close();
    b.close();
  }, 20_000);

  test("a member who turns receipts off is no longer shown, in snapshots or updates", async () => {
    await h.node.chat.users.updateSettings(
      { userId: carol.id, username: carol.username },
      { readReceipts: false },
    );
    const a = await connect(alice, { receipts: receiptsDest() });
    const snapshot = body(await a.next(isReceipts));
    expect((snapshot.positions as Positions).map((p) => p.userId)).not.toContain(carol.id);
    const c = await connect(carol, { room: `/topic/rooms/${room.id}` });
    const b = await connect(bob, { room: `/topic/rooms/${room.id}` });
    await say(b, "for carol");
    await c.next((f) => f.command === "MESSAGE");
    await eventually(
      async () =>
        (await h.backends.stores.rooms.getReadPosition(room.id, carol.id)) !== null &&
        a.frames.some(isReceipts),
      "a receipts update",
      6_000,
    );
    await Bun.sleep(1500);
    const updates = a
      .take("MESSAGE")
      .filter(isReceipts)
      .flatMap((f) => body(f).positions as Positions);
    expect(updates.map((p) => p.userId)).toContain(bob.id);
    expect(updates.map((p) => p.userId)).not.toContain(carol.id);
    a.close();
    b.close();
    c.close();
  }, 20_000);

  test("clients cannot send receipts; outsiders cannot watch them", async () => {
    const a = await connect(alice, {});
    a.sendFrame("SEND", { destination: receiptsDest(), receipt: "x" }, JSON.stringify({ seq: 1 }));
    const n = await a.next((f) => f.headers.destination === "/user/queue/errors");
    expect(body(n).code).toBe("forbidden");
    const stranger = await h.user("eve");
    const e = await RawStomp.connect(h.url, stranger.token);
    e.sendFrame("SUBSCRIBE", { id: "r", destination: receiptsDest() });
    expect((await e.next()).headers.message).toBe("forbidden");
    a.close();
  });
});
