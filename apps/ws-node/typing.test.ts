import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { Room } from "../../lib/store/types.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/** Typing over STOMP: an ephemeral signal with its own budget, coalesced, expiring. */
let h: WsHarness;
let room: Room;
type Member = { token: string; id: string; username: string };
let alice: Member;
let bob: Member;
let eve: Member;

beforeAll(async () => {
  h = await startWsHarness({
    SEND_RATE_PER_SEC: "0.1",
    SEND_BURST: "2",
    SIGNAL_RATE_PER_SEC: "1",
    SIGNAL_BURST: "30",
  });
  const [a, b, e] = [await h.user("alice"), await h.user("bob"), await h.user("eve")];
  const member = (x: typeof a): Member => ({ token: x.token, id: x.user.id, username: x.user.username });
  [alice, bob, eve] = [member(a), member(b), member(e)];
  room = await h.room(a.user.id);
  await h.join(room.id, b.user.id);
});
afterAll(() => h.stop());

const typingDest = () => `/topic/rooms/${room.id}/typing`;
const isTyping = (f: Frame) => f.command === "MESSAGE" && f.headers.destination === typingDest();
const body = (f: Frame) => JSON.parse(new TextDecoder().decode(f.body));

async function watching(m: Member, extra: Record<string, string> = {}): Promise<RawStomp> {
  const c = await RawStomp.connect(h.url, m.token);
  c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
  c.sendFrame("SUBSCRIBE", { id: "typing", destination: typingDest(), receipt: "t", ...extra });
  await c.next((f) => f.command === "RECEIPT" || f.command === "ERROR");
  return c;
}

const signal = (c: RawStomp, typing: boolean, receipt?: string) =>
  c.sendFrame(
    "SEND",
    { destination: typingDest(), "content-type": "application/json", ...(receipt ? { receipt } : {}) },
    JSON.stringify({ typing }),
  );

describe("typing", () => {
  test("start and stop reach the other members; repeats are coalesced into nothing", async () => {
    const a = await watching(alice);
    const b = await watching(bob);
    for (let i = 0; i < 10; i++) signal(a, true, `r${i}`);
    await a.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "r9");
    const started = body(await b.next(isTyping));
    expect(started).toEqual({
      type: "typing",
      roomId: room.id,
      typing: [{ id: alice.id, username: alice.username }],
      count: 1,
    });
    const published = h.node.signalHub.published;
    await Bun.sleep(1200);
    expect(b.take("MESSAGE")).toHaveLength(0);
    expect(h.node.signalHub.published).toBe(published);
    signal(a, false);
    expect(body(await b.next(isTyping))).toMatchObject({ typing: [], count: 0 });
    a.close();
    b.close();
  });

  test("a typist's message ends their typing; a late subscriber sees who types now", async () => {
    const a = await watching(alice);
    signal(a, true);
    await a.next(isTyping);
    const b = await watching(bob);
    // The node's current state comes first, after the RECEIPT.
    expect(body(await b.next(isTyping)).count).toBe(1);
    a.sendFrame(
      "SEND",
      { destination: `/topic/rooms/${room.id}`, receipt: "msg" },
      JSON.stringify({ text: "done" }),
    );
    await a.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "msg");
    expect(body(await b.next(isTyping, 3000)).count).toBe(0);
    a.close();
    b.close();
  });

  test("typing expires 5 s after the last start", async () => {
    const a = await watching(alice);
    const b = await watching(bob);
    signal(a, true);
    expect(body(await b.next(isTyping)).count).toBe(1);
    const t0 = performance.now();
    expect(body(await b.next(isTyping, 8000)).count).toBe(0);
    expect(performance.now() - t0).toBeGreaterThan(4000);
    a.close();
    b.close();
  }, 15_000);

  test("signals have their own budget: typing never spends the chat SEND bucket, and its limit is a notice", async () => {
    const a = await watching(alice);
    for (let i = 0; i < 30; i++) signal(a, i % 2 === 0);
    // The chat bucket (burst 2) is untouched by 30 signals.
    for (const t of ["one", "two"]) {
      a.sendFrame(
        "SEND",
        { destination: `/topic/rooms/${room.id}`, receipt: t },
        JSON.stringify({ text: t }),
      );
      await a.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === t);
    }
    // The 31st signal is over the signal budget: a rate_limited notice, the connection stays.
    signal(a, true, "over");
    const notice = await a.next((f) => f.headers.destination === "/user/queue/errors");
    expect(JSON.parse(new TextDecoder().decode(notice.body))).toMatchObject({
      code: "rate_limited",
      destination: typingDest(),
    });
    expect(notice.headers["receipt-id"]).toBe("over");
    expect(a.isClosed).toBe(false);
    a.close();
  });

  test("non-members are refused; bad bodies and unknown kinds are clear refusals", async () => {
    const e = await RawStomp.connect(h.url, eve.token);
    e.sendFrame("SUBSCRIBE", { id: "t", destination: typingDest() });
    expect((await e.next()).headers.message).toBe("forbidden");
    const a = await watching(alice);
    signal(a, true);
    a.sendFrame("SEND", { destination: typingDest(), receipt: "bad" }, JSON.stringify({ typing: "yes" }));
    const bad = await a.next((f) => f.headers.destination === "/user/queue/errors");
    expect(JSON.parse(new TextDecoder().decode(bad.body)).code).toBe("invalid_message");
    a.sendFrame("SEND", { destination: `/topic/rooms/${room.id}/shouting`, receipt: "x" }, "{}");
    const unknown = await a.next((f) => f.headers.destination === "/user/queue/errors");
    expect(JSON.parse(new TextDecoder().decode(unknown.body)).code).toBe("unknown_destination");
    a.sendFrame("SUBSCRIBE", { id: "u", destination: `/topic/rooms/${room.id}/shouting` });
    expect((await a.next((f) => f.command === "ERROR")).headers.message).toBe("unknown destination");
  });

  test("the fast path (a SEND without receipt) has the same outcome as the usual one, legal body or not", async () => {
    const a = await watching(alice);
    const passed: unknown[] = [];
    const signals = h.node.chat.signals;
    const passOn = signals.passOn;
    signals.passOn = function (actor, roomId, kind, data, json) {
      passed.push({ userId: actor.userId, roomId, kind: kind.name, data, json });
      return passOn.call(this, actor, roomId, kind, data, json);
    };
    const notice = (f: Frame) => f.headers.destination === "/user/queue/errors";
    const stats = h.node.endpoint.stats;
    try {
      const bodies = [
        '{"typing":true}',
        '{"typing":false}',
        '{"typing": true}',
        '{"typing": false}',
        '{"typing":"yes"}',
        '{"typing":true,"x":1}',
        "{}",
        "nope",
      ];
      let n = 0;
      for (const b of bodies) {
        // Fast: no receipt; a BEGIN with a receipt after it shows it was handled (frames go in order).
        const before = stats.sentAtOnce;
        passed.length = 0;
        a.sendFrame("SEND", { destination: typingDest(), "content-type": "application/json" }, b);
        a.sendFrame("BEGIN", { transaction: `t${++n}`, receipt: `b${n}` });
        await a.next((f) => f.headers["receipt-id"] === `b${n}`);
        a.sendFrame("ABORT", { transaction: `t${n}` });
        const fast = {
          passed: [...passed],
          refused: a
            .take("MESSAGE")
            .filter(notice)
            .map((f) => body(f).code),
        };
        const tookFast = stats.sentAtOnce - before;
        // Slow: the same SEND asking for a receipt.
        passed.length = 0;
        a.sendFrame(
          "SEND",
          { destination: typingDest(), "content-type": "application/json", receipt: `s${n}` },
          b,
        );
        const answer = await a.next((f) => f.headers["receipt-id"] === `s${n}`);
        const slow = {
          passed: [...passed],
          refused: answer.command === "RECEIPT" ? [] : [body(answer).code],
        };
        expect({ body: b, ...fast }).toEqual({ body: b, ...slow });
        expect(stats.sentAtOnce - before).toBe(tookFast);
        expect(tookFast).toBe(slow.refused.length === 0 ? 1 : 0);
      }
    } finally {
      signals.passOn = passOn;
      a.close();
    }
  });

  test("a SEND to typing from a connection that does not watch it takes the usual path, with its checks", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
    c.sendFrame("SUBSCRIBE", { id: "room", destination: `/topic/rooms/${room.id}`, receipt: "r" });
    await c.next((f) => f.headers["receipt-id"] === "r");
    const before = h.node.endpoint.stats.sentAtOnce;
    signal(c, true);
    signal(c, false, "done");
    expect((await c.next((f) => f.headers["receipt-id"] === "done")).command).toBe("RECEIPT");
    expect(h.node.endpoint.stats.sentAtOnce).toBe(before);
    const e = await RawStomp.connect(h.url, eve.token);
    e.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
    signal(e, true);
    const refused = await e.next((f) => f.headers.destination === "/user/queue/errors");
    expect(body(refused).code).toBe("forbidden");
    expect(h.node.endpoint.stats.sentAtOnce).toBe(before);
    c.close();
    e.close();
  });

  test("a removed member's typing subscription is revoked with their room subscription", async () => {
    const b = await watching(bob);
    await h.node.chat.admin.remove({ userId: alice.id, username: alice.username }, room.id, bob.id, {
      ban: false,
    });
    const n = await b.next((f) => f.headers.destination === "/user/queue/errors");
    expect(JSON.parse(new TextDecoder().decode(n.body))).toMatchObject({
      code: "subscription_revoked",
      subscription: "typing",
    });
    await eventually(
      () => h.node.signalHub.subsOf(room.id).every((s) => s.userId !== bob.id),
      "the hub to drop it",
    );
    await h.join(room.id, bob.id);
    b.close();
  });
});
