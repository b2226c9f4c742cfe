import { afterAll, beforeAll, expect, test } from "bun:test";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

let h: WsHarness;
beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "1000", SEND_BURST: "1000" });
});
afterAll(() => h.stop());

/** Connects, subscribes to the room (no x-since-seq: the stored read position decides) and waits. */
async function member(token: string, roomId: string): Promise<RawStomp> {
  const c = await RawStomp.connect(h.url, token);
  c.sendFrame("SUBSCRIBE", { id: "s", destination: `/topic/rooms/${roomId}`, receipt: "sub" });
  await c.next((f) => f.command === "RECEIPT");
  return c;
}

async function texts(c: RawStomp, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const m = JSON.parse(c.body(await c.next((f) => f.command === "MESSAGE")));
    if (m.type === "message") out.push(m.text);
  }
  return out;
}

test("shed closes a share of the connections with 1001; their reconnect resumes exactly where they were", async () => {
  const owner = await h.user("owner");
  const room = await h.room(owner.user.id);
  const users = await Promise.all(Array.from({ length: 10 }, () => h.user("m")));
  for (const u of users) await h.join(room.id, u.user.id);
  const sender = await member(owner.token, room.id);
  const clients = await Promise.all(users.map((u) => member(u.token, room.id)));
  const send = async (t: string) => {
    sender.sendFrame(
      "SEND",
      { destination: `/topic/rooms/${room.id}`, receipt: t },
      JSON.stringify({ text: t }),
    );
    await sender.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === t);
  };
  for (const t of ["a", "b", "c"]) await send(t);
  for (const c of clients) expect(await texts(c, 3)).toEqual(["a", "b", "c"]);

  // 11 settled connections (10 members and the sender): a fifth is 2.
  expect(await h.node.shed(0.2)).toBe(2);
  const closes = await Promise.all(
    [sender, ...clients].map((c) => Promise.race([c.closed, Bun.sleep(500).then(() => undefined)])),
  );
  const shed = closes.filter((c) => c !== undefined);
  expect(shed.map((c) => c!.code)).toEqual([1001, 1001]);

  // Every member reconnects if it was closed; sends go on; nobody sees a message twice or misses one.
  const all = [sender, ...clients];
  const reconnected = await Promise.all(
    all.map(async (c, i) => {
      if (closes[i] === undefined) return c;
      return member(i === 0 ? owner.token : users[i - 1]!.token, room.id);
    }),
  );
  const [sender2, ...members] = reconnected;
  sender2!.sendFrame("SEND", { destination: `/topic/rooms/${room.id}`, receipt: "d" }, '{"text":"d"}');
  await sender2!.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "d");
  for (const c of members) expect(await texts(c, 1)).toEqual(["d"]);
  expect(await h.node.shed(0)).toBe(1); // at least one, whatever the fraction
  for (const c of reconnected) c.close();
});
