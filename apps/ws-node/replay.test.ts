import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

let h: WsHarness;
beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "1000", SEND_BURST: "1000" });
});
afterAll(() => h.stop());

const text = (c: RawStomp, f: Frame) => JSON.parse(c.body(f)).text as string;
const isMessage = (f: Frame) => f.command === "MESSAGE";

async function setup() {
  const a = await h.user("a");
  const b = await h.user("b");
  const room = await h.room(a.user.id);
  await h.join(room.id, b.user.id);
  const dest = `/topic/rooms/${room.id}`;
  const sub = async (token: string, headers: Record<string, string> = {}) => {
    const c = await RawStomp.connect(h.url, token);
    c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: dest, receipt: "sub", ...headers });
    await c.next((f) => f.command === "RECEIPT");
    return c;
  };
  const sendAll = async (c: RawStomp, texts: string[]) => {
    for (const t of texts)
      c.sendFrame("SEND", { destination: dest, receipt: `r-${t}` }, JSON.stringify({ text: t }));
    for (const t of texts)
      await c.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === `r-${t}`);
  };
  const leave = async (c: RawStomp) => {
    c.sendFrame("DISCONNECT", { receipt: "bye" });
    await c.next((f) => f.command === "RECEIPT");
    await c.closed;
  };
  return { a, b, room, dest, sub, sendAll, leave };
}

describe("missed messages on reconnect", () => {
  test("a member who was away gets exactly the missed messages, marked, then live ones", async () => {
    const { a, b, sub, sendAll, leave } = await setup();
    const bob = await sub(b.token);
    const alice = await sub(a.token);
    await sendAll(alice, ["before"]);
    expect(text(bob, await bob.next(isMessage))).toBe("before");
    await leave(bob);

    await sendAll(alice, ["m1", "m2", "m3"]);
    const back = await sub(b.token);
    const replayed = [await back.next(isMessage), await back.next(isMessage), await back.next(isMessage)];
    expect(replayed.map((f) => text(back, f))).toEqual(["m1", "m2", "m3"]);
    expect(replayed.every((f) => f.headers["x-replay"] === "true")).toBe(true);
    await sendAll(alice, ["live"]);
    const live = await back.next(isMessage);
    expect(text(back, live)).toBe("live");
    expect(live.headers["x-replay"]).toBeUndefined();
    expect(back.take("MESSAGE")).toHaveLength(0);
    alice.close();
    back.close();
  });

  test("x-since-seq asks for everything after a given position", async () => {
    const { a, sub, sendAll } = await setup();
    const alice = await sub(a.token);
    await sendAll(alice, ["x1", "x2", "x3"]);
    const seqs = [];
    for (let i = 0; i < 3; i++) seqs.push(JSON.parse(alice.body(await alice.next(isMessage))).seq as number);
    const again = await sub(a.token, { "x-since-seq": String(seqs[0]) });
    expect([text(again, await again.next(isMessage)), text(again, await again.next(isMessage))]).toEqual([
      "x2",
      "x3",
    ]);
    alice.close();
    again.close();
  });

  test("messages sent while the replay runs come after it, once each, in order", async () => {
    const { a, b, sub, sendAll, leave } = await setup();
    const alice = await sub(a.token);
    const bob = await sub(b.token);
    await leave(bob);
    const missed = Array.from({ length: 300 }, (_, i) => `old${i}`);
    await sendAll(alice, missed);
    const back = await sub(b.token);
    const during = Array.from({ length: 50 }, (_, i) => `new${i}`);
    await sendAll(alice, during);
    const got: string[] = [];
    for (let i = 0; i < missed.length + during.length; i++) got.push(text(back, await back.next(isMessage)));
    expect(got).toEqual([...missed, ...during]);
    await Bun.sleep(50);
    expect(back.take("MESSAGE")).toHaveLength(0);
    alice.close();
    back.close();
  });
});

describe("acknowledgement modes", () => {
  test("client mode: MESSAGE carries ack; a cumulative ACK moves the read position", async () => {
    const { a, b, room, sub, sendAll } = await setup();
    const alice = await sub(a.token);
    const bob = await sub(b.token, { ack: "client" });
    await sendAll(alice, ["c1", "c2", "c3"]);
    const frames = [await bob.next(isMessage), await bob.next(isMessage), await bob.next(isMessage)];
    expect(frames.every((f) => typeof f.headers.ack === "string")).toBe(true);
    bob.sendFrame("ACK", { id: frames[1]!.headers.ack! });
    // DISCONNECT writes pending read positions before its RECEIPT.
    bob.sendFrame("DISCONNECT", { receipt: "bye" });
    await bob.next((f) => f.command === "RECEIPT");
    const seq2 = JSON.parse(bob.body(frames[1]!)).seq;
    expect(await h.backends.stores.rooms.getReadPosition(room.id, b.user.id)).toBe(seq2);
    alice.close();
  });

  test("client-individual: un-acked messages come back as missed on the next subscription", async () => {
    const { a, b, sub, sendAll } = await setup();
    const alice = await sub(a.token);
    const bob = await sub(b.token, { ack: "client-individual" });
    await sendAll(alice, ["i1", "i2", "i3"]);
    const frames = [await bob.next(isMessage), await bob.next(isMessage), await bob.next(isMessage)];
    // ACK the first and third; NACK the second.
    bob.sendFrame("ACK", { id: frames[0]!.headers.ack! });
    bob.sendFrame("NACK", { id: frames[1]!.headers.ack! });
    bob.sendFrame("ACK", { id: frames[2]!.headers.ack! });
    bob.sendFrame("DISCONNECT", { receipt: "bye" });
    await bob.next((f) => f.command === "RECEIPT");
    const back = await sub(b.token);
    const again = await back.next(isMessage);
    expect(text(back, again)).toBe("i2");
    expect(again.headers["x-replay"]).toBe("true");
    // i3 follows i2 because the read position can only say "everything up to here".
    expect(text(back, await back.next(isMessage))).toBe("i3");
    alice.close();
    back.close();
  });

  test("an ACK for a message already acknowledged is an error", async () => {
    const { a, b, sub, sendAll } = await setup();
    const alice = await sub(a.token);
    const bob = await sub(b.token, { ack: "client-individual" });
    await sendAll(alice, ["d1"]);
    const f = await bob.next(isMessage);
    bob.sendFrame("ACK", { id: f.headers.ack! });
    bob.sendFrame("ACK", { id: f.headers.ack!, receipt: "twice" });
    const err = await bob.next((x) => x.command === "ERROR");
    expect(err.headers.message).toBe("invalid ack id");
    expect(err.headers["receipt-id"]).toBe("twice");
    alice.close();
  });
});
