import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ChatMessage } from "../../lib/chat/message.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { Room } from "../../lib/store/types.ts";
import { foldView } from "../../testkit/chat-view.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/** Edits and deletes over STOMP: live, and arriving with the missed messages after a reconnect. */
let h: WsHarness;
let room: Room;
let alice: { token: string; actor: { userId: string; username: string } };
let bob: { token: string; actor: { userId: string; username: string } };

beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "100", SEND_BURST: "100" });
  const a = await h.user("alice");
  const b = await h.user("bob");
  alice = { token: a.token, actor: { userId: a.user.id, username: a.user.username } };
  bob = { token: b.token, actor: { userId: b.user.id, username: b.user.username } };
  room = await h.room(a.user.id);
  await h.join(room.id, b.user.id);
});
afterAll(() => h.stop());

const dest = () => `/topic/rooms/${room.id}`;
const isMessage = (f: Frame) => f.command === "MESSAGE";
const body = (f: Frame) => JSON.parse(new TextDecoder().decode(f.body)) as ChatMessage;

async function subscribed(token: string, extra: Record<string, string> = {}): Promise<RawStomp> {
  const c = await RawStomp.connect(h.url, token);
  c.sendFrame("SUBSCRIBE", { id: "room", destination: dest(), receipt: "s", ...extra });
  await c.next((f) => f.command === "RECEIPT");
  return c;
}

async function say(c: RawStomp, text: string, clientMsgId?: string): Promise<void> {
  const receipt = `r-${text}`;
  const headers: Record<string, string> = { destination: dest(), receipt };
  if (clientMsgId) headers["x-client-msg-id"] = clientMsgId;
  c.sendFrame("SEND", headers, JSON.stringify({ text }));
  await c.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === receipt);
}

async function receive(c: RawStomp, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push(await c.next(isMessage));
  return out;
}

describe("edits and deletes over STOMP", () => {
  test("live members get the edit and delete events; x-client-msg-id comes back in the stamped message", async () => {
    const a = await subscribed(alice.token, { "x-since-seq": "999999999" });
    const b = await subscribed(bob.token, { "x-since-seq": "999999999" });
    await say(a, "helo", "local-1");
    await say(a, "oops");
    const [first, second] = (await receive(b, 2)).map(body);
    expect(first).toMatchObject({ text: "helo", clientMsgId: "local-1" });
    expect(second!.clientMsgId).toBeUndefined();
    await eventually(async () => (await h.backends.backlog.lastSeq(room.id)) >= second!.seq, "the backlog");
    const edit = await h.node.chat.messages.edit(alice.actor, room.id, first!.seq, { text: "hello" });
    const del = await h.node.chat.messages.delete(alice.actor, room.id, second!.seq);
    const events = (await receive(b, 2)).map(body);
    expect(events[0]).toMatchObject({
      type: "edit",
      seq: edit.seq,
      text: "hello",
      target: { id: first!.id, seq: first!.seq },
    });
    expect(events[1]).toMatchObject({
      type: "delete",
      seq: del.seq,
      text: "",
      target: { id: second!.id, seq: second!.seq },
    });
    const live = foldView([first!, second!, ...events]);
    expect([...live.values()].map((m) => m.text)).toEqual(["hello", ""]);
    a.close();
    b.close();
  });

  test("an edit or delete made while a member was away arrives with the missed messages; every view agrees", async () => {
    const a = await subscribed(alice.token, { "x-since-seq": "999999999" });
    let b = await subscribed(bob.token, { "x-since-seq": "999999999" });
    await say(a, "before one");
    await say(a, "before two");
    const seen = (await receive(b, 2)).map(body);
    b.sendFrame("DISCONNECT", { receipt: "bye" });
    await b.next((f) => f.command === "RECEIPT");
    // While bob is away: one of what he saw is edited, the other deleted, and more is said.
    await eventually(async () => (await h.backends.backlog.lastSeq(room.id)) >= seen[1]!.seq, "the backlog");
    await h.node.chat.messages.edit(alice.actor, room.id, seen[0]!.seq, { text: "before one (fixed)" });
    await h.node.chat.messages.delete(alice.actor, room.id, seen[1]!.seq);
    await say(a, "while away");
    b = await subscribed(bob.token);
    const missed = await receive(b, 3);
    expect(missed.map((f) => f.headers["x-replay"])).toEqual(["true", "true", "true"]);
    expect(missed.map((f) => body(f).type)).toEqual(["edit", "delete", "message"]);
    const caughtUp = foldView([...seen, ...missed.map(body)]);
    // Someone who loads the whole history instead sees the stored originals already amended.
    await eventually(
      async () => (await h.backends.backlog.lastSeq(room.id)) >= body(missed[2]!).seq,
      "the backlog",
    );
    const fromHistory = foldView(await h.backends.backlog.after(room.id, seen[0]!.seq - 1, 100));
    // And a fresh subscription replaying from before them all (x-since-seq) agrees too.
    const fresh = await subscribed(alice.token, { "x-since-seq": String(seen[0]!.seq - 1) });
    const replayed = foldView((await receive(fresh, 5)).map(body));
    for (const view of [fromHistory, replayed]) {
      expect([...view.values()]).toEqual([...caughtUp.values()]);
    }
    expect([...caughtUp.values()].map((m) => m.text)).toEqual(["before one (fixed)", "", "while away"]);
    a.close();
    b.close();
    fresh.close();
  });
});
