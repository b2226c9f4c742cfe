import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newDraft } from "../../lib/chat/message.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/** SEND with x-client-msg-id: one stored copy per logical message, however often it is sent. */
const dataDir = mkdtempSync(join(tmpdir(), "chattalk-idempotent-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const settings = { DATA_DIR: dataDir, SEND_RATE_PER_SEC: "1000", SEND_BURST: "1000" };

const isMessage = (f: Frame) => f.command === "MESSAGE";
const body = (c: RawStomp, f: Frame) => JSON.parse(c.body(f));

async function chat(h: WsHarness, room: { id: string }, token: string) {
  const dest = `/topic/rooms/${room.id}`;
  const c = await RawStomp.connect(h.url, token);
  c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
  c.sendFrame("SUBSCRIBE", { id: "room", destination: dest, receipt: "in" });
  await c.next((f) => f.command === "RECEIPT");
  const send = (text: string, receipt: string, clientMsgId?: string) =>
    c.sendFrame(
      "SEND",
      { destination: dest, receipt, ...(clientMsgId ? { "x-client-msg-id": clientMsgId } : {}) },
      JSON.stringify({ text }),
    );
  /** The SEND's one answer: its RECEIPT, or the refusal notice carrying its receipt-id. */
  const answer = (receipt: string) =>
    c.next(
      (f) => f.headers["receipt-id"] === receipt && (f.command === "RECEIPT" || f.command === "MESSAGE"),
    );
  return { c, send, answer };
}

describe("idempotent SEND", () => {
  let h: WsHarness;
  let room: { id: string };
  let alice: { user: { id: string }; token: string };
  let bobToken: string;
  afterAll(() => h?.stop());

  test("a retry is answered with the original's RECEIPT and seq; everyone sees the message once", async () => {
    h = await startWsHarness(settings);
    alice = await h.user("alice");
    const bob = await h.user("bob");
    bobToken = bob.token;
    room = await h.room(alice.user.id);
    await h.join(room.id, bob.user.id);
    const a = await chat(h, room, alice.token);
    const b = await chat(h, room, bob.token);

    a.send("hello", "s1", "msg-1");
    const first = await a.answer("s1");
    expect(first.command).toBe("RECEIPT");
    expect(first.headers["x-duplicate"]).toBeUndefined();
    const seq = Number(first.headers.seq);
    const seen = await b.c.next(isMessage);
    expect(body(b.c, seen)).toMatchObject({ seq, text: "hello", clientMsgId: "msg-1" });
    expect(seen.headers["x-client-msg-id"]).toBe("msg-1");

    // The same message again (its RECEIPT was lost, say), on another connection too.
    a.send("hello", "s2", "msg-1");
    const again = await a.answer("s2");
    expect(again.command).toBe("RECEIPT");
    expect(again.headers).toMatchObject({ seq: String(seq), "x-duplicate": "true" });
    const other = await chat(h, room, alice.token);
    other.send("hello", "s3", "msg-1");
    expect((await other.answer("s3")).headers).toMatchObject({ seq: String(seq), "x-duplicate": "true" });
    // Another sender's id space is its own.
    b.send("hello", "s4", "msg-1");
    expect((await b.answer("s4")).headers["x-duplicate"]).toBeUndefined();

    a.send("marker", "s5");
    await a.answer("s5");
    const after = [];
    for (;;) {
      const f = await b.c.next(isMessage);
      after.push(body(b.c, f).text);
      if (body(b.c, f).text === "marker") break;
    }
    expect(after).toEqual(["hello", "marker"]);
    for (const x of [a, b, other]) x.c.close();
  });

  test("copies two replicas both appended: every reader keeps the first, history too", async () => {
    const a = await chat(h, room, alice.token);
    const sender = { id: alice.user.id, username: "alice" };
    const firstCopy = await h.backends.bus.publish(
      newDraft(room.id, "message", sender, "raced", { clientMsgId: "msg-2" }),
    );
    await h.backends.bus.publish(newDraft(room.id, "message", sender, "raced", { clientMsgId: "msg-2" }));
    await h.backends.bus.publish(newDraft(room.id, "message", sender, "next", { clientMsgId: "msg-3" }));
    const live = (f: Frame) => isMessage(f) && f.headers["x-replay"] === undefined;
    const got = [body(a.c, await a.c.next(live)), body(a.c, await a.c.next(live))];
    expect(got.map((m) => [m.text, m.seq])).toEqual([
      ["raced", firstCopy.seq],
      ["next", firstCopy.seq + 2],
    ]);
    await eventually(
      async () => (await h.backends.backlog.lastSeq(room.id)) >= firstCopy.seq + 2,
      "the writer",
    );
    const stored = (await h.backends.backlog.after(room.id, firstCopy.seq - 1, 10)).map((m) => m.seq);
    expect(stored).toEqual([firstCopy.seq, firstCopy.seq + 2]);
    expect(h.node.duplicates.stats.dropped).toBeGreaterThanOrEqual(1);
    a.c.close();
  });

  test("an id that is not a client message id is refused, certainly not written", async () => {
    const a = await chat(h, room, alice.token);
    a.send("x", "bad", "has space");
    const n = await a.answer("bad");
    expect(n.command).toBe("MESSAGE");
    expect(body(a.c, n)).toMatchObject({ code: "invalid_message", outcome: "not_written" });
    a.c.close();
  });

  test("after a restart the node still knows what was stored (it reads the log's recent past)", async () => {
    const a = await chat(h, room, alice.token);
    a.send("before restart", "r1", "msg-4");
    const stored = Number((await a.answer("r1")).headers.seq);
    a.c.close();
    await h.stop();
    h = await startWsHarness(settings);
    const back = await chat(h, room, alice.token);
    back.send("before restart", "r2", "msg-4");
    expect((await back.answer("r2")).headers).toMatchObject({ seq: String(stored), "x-duplicate": "true" });
    back.c.close();
    // And a member who missed it is replayed it from memory, after the restart.
    const b = await chat(h, room, bobToken);
    const replayed: string[] = [];
    for (;;) {
      const m = body(b.c, await b.c.next(isMessage));
      replayed.push(m.text);
      if (m.seq === stored) break;
    }
    expect(replayed.filter((t) => t === "before restart")).toHaveLength(1);
    expect(h.node.replayStats.memory).toBeGreaterThanOrEqual(1);
    expect(h.node.replayStats.store).toBe(0);
    b.c.close();
  });

  test("a SEND the bus did not take says so: not written, send it again", async () => {
    const a = await chat(h, room, alice.token);
    await h.backends.bus.close();
    a.send("lost?", "x1", "msg-5");
    const n = await a.answer("x1");
    expect(body(a.c, n)).toMatchObject({ code: "unavailable", outcome: "not_written" });
    a.c.close();
  });
});
