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

describe("DISCONNECT saves what was received", () => {
  test("mid-stream: the saved position is the last message before the RECEIPT, and a resume repeats nothing", async () => {
    const { a, b, room, dest, sub, sendAll } = await setup();
    const alice = await sub(a.token);
    const bob = await sub(b.token);
    // A store as slow as a loaded Postgres: messages keep arriving while positions are written.
    const rooms = h.backends.stores.rooms;
    const write = rooms.advanceReadPositions.bind(rooms);
    rooms.advanceReadPositions = async (...args) => {
      await Bun.sleep(30);
      return write(...args);
    };
    // Alice keeps talking while Bob leaves.
    const talking = (async () => {
      for (let i = 0; i < 100; i++) {
        alice.sendFrame("SEND", { destination: dest }, JSON.stringify({ text: `d${i}` }));
        await Bun.sleep(3);
      }
    })();
    for (let i = 0; i < 5; i++) await bob.next(isMessage);
    bob.sendFrame("DISCONNECT", { receipt: "bye" });
    await bob.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "bye");
    const before = bob.take("MESSAGE").map((f) => JSON.parse(bob.body(f)).seq as number);
    const highest = Math.max(0, ...before);
    rooms.advanceReadPositions = write;
    expect(await rooms.getReadPosition(room.id, b.user.id)).toBeGreaterThanOrEqual(highest);
    await talking;
    await sendAll(alice, ["after"]);
    const back = await sub(b.token);
    const first = await back.next(isMessage);
    expect(JSON.parse(back.body(first)).seq).toBeGreaterThan(highest);
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

/** Records one room's backlog reads (the node's backlog is the harness's object). */
function spyOnBacklog(harness: WsHarness, roomId: string) {
  const backlog = harness.backends.backlog;
  const original = { after: backlog.after, lastSeq: backlog.lastSeq, epochs: backlog.epochs };
  const reads: { op: string; afterSeq?: number }[] = [];
  backlog.after = (r, afterSeq, limit) => {
    if (r === roomId) reads.push({ op: "after", afterSeq });
    return original.after(r, afterSeq, limit);
  };
  backlog.lastSeq = (r) => {
    if (r === roomId) reads.push({ op: "lastSeq" });
    return original.lastSeq(r);
  };
  backlog.epochs = (ids) => {
    if (ids.includes(roomId)) reads.push({ op: "epochs" });
    return original.epochs(ids);
  };
  return {
    reads,
    restore: () => Object.assign(backlog, original),
  };
}

const seqOf = (c: RawStomp, f: Frame) => JSON.parse(c.body(f)).seq as number;

describe("replay sources", () => {
  test("a short absence is replayed from memory, with no backlog read", async () => {
    const { a, b, room, sub, sendAll, leave } = await setup();
    const bob = await sub(b.token);
    const alice = await sub(a.token);
    await sendAll(alice, ["seen"]);
    await bob.next(isMessage);
    await leave(bob);
    await sendAll(alice, ["gone1", "gone2"]);
    // Let the backlog writer store them (and record the room's epoch), as it would on a real node.
    await Bun.sleep(100);
    const before = { ...h.node.replayStats };
    const spy = spyOnBacklog(h, room.id);
    try {
      const back = await sub(b.token);
      const got = [await back.next(isMessage), await back.next(isMessage)];
      expect(got.map((f) => text(back, f))).toEqual(["gone1", "gone2"]);
      expect(got.every((f) => f.headers["x-replay"] === "true")).toBe(true);
      expect(spy.reads).toEqual([]);
      expect(h.node.replayStats.memory).toBe(before.memory + 1);
      expect(h.node.replayStats.store).toBe(before.store);
      back.close();
    } finally {
      spy.restore();
    }
    alice.close();
  });
});

describe("replay beyond the recent messages", () => {
  let small: WsHarness;
  beforeAll(async () => {
    small = await startWsHarness({
      SEND_RATE_PER_SEC: "100000",
      SEND_BURST: "100000",
      RECENT_MESSAGES_PER_ROOM: "50",
    });
  });
  afterAll(() => small.stop());

  async function smallRoom() {
    const a = await small.user("a");
    const b = await small.user("b");
    const room = await small.room(a.user.id);
    await small.join(room.id, b.user.id);
    const dest = `/topic/rooms/${room.id}`;
    const sub = async (token: string) => {
      const c = await RawStomp.connect(small.url, token);
      c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: dest, receipt: "sub" });
      await c.next((f) => f.command === "RECEIPT");
      return c;
    };
    const send = (c: RawStomp, t: string, receipt?: string) =>
      c.sendFrame(
        "SEND",
        { destination: dest, ...(receipt ? { receipt } : {}) },
        JSON.stringify({ text: t }),
      );
    return { a, b, room, sub, send };
  }

  test("the backlog serves what memory no longer holds, memory the rest; live traffic does not extend it", async () => {
    const { a, b, room, sub, send } = await smallRoom();
    const alice = await sub(a.token);
    const missed = Array.from({ length: 2000 }, (_, i) => `old${i}`);
    for (const [i, t] of missed.entries()) send(alice, t, i === missed.length - 1 ? "last" : undefined);
    await alice.next((f) => f.command === "RECEIPT", 30_000);
    let target = 0;
    for (let i = 0; i < missed.length; i++) target = seqOf(alice, await alice.next(isMessage));
    const before = { ...small.node.replayStats };
    const spy = spyOnBacklog(small, room.id);
    try {
      const bob = await sub(b.token);
      // Live traffic all through the replay.
      const live = Array.from({ length: 100 }, (_, i) => `new${i}`);
      const sending = (async () => {
        for (const t of live) {
          send(alice, t);
          await Bun.sleep(2);
        }
      })();
      const got: Frame[] = [];
      for (let i = 0; i < missed.length + live.length; i++) got.push(await bob.next(isMessage, 20_000));
      await sending;
      expect(got.map((f) => text(bob, f))).toEqual([...missed, ...live]);
      // Replayed: exactly the messages up to the end fixed at SUBSCRIBE; the rest came live.
      expect(
        got
          .filter((f) => f.headers["x-replay"] === "true")
          .map((f) => seqOf(bob, f))
          .at(-1),
      ).toBe(target);
      expect(got.slice(missed.length).every((f) => f.headers["x-replay"] === undefined)).toBe(true);
      // The backlog was read only below the end, and memory served its tail.
      const pages = spy.reads.filter((r) => r.op === "after");
      expect(pages.length).toBeGreaterThan(0);
      expect(pages.every((r) => r.afterSeq! < target)).toBe(true);
      expect(pages.at(-1)!.afterSeq!).toBeLessThan(target - 50);
      expect(small.node.replayStats.store).toBe(before.store + 1);
      expect(small.node.replayStats.incomplete).toBe(before.incomplete);
      await Bun.sleep(50);
      expect(bob.take("MESSAGE")).toHaveLength(0);
      bob.close();
    } finally {
      spy.restore();
    }
    alice.close();
  }, 60_000);
});
