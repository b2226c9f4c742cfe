import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ChatMessage } from "../../lib/chat/message.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import { wsNodes } from "../../scripts/cluster.d/state.ts";
import { ChatClient, roomOf, signup, startTestCluster, type TestCluster } from "../../testkit/cluster.ts";
import { skipWithoutCluster } from "../../testkit/cluster-env.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { skipWithout } from "../../testkit/services.ts";

/**
 * Edits and deletes (issue 12) across three ws-node replicas on real Kafka, Postgres and the
 * MongoDB-protocol backlog, behind nginx: the edit and delete lines made over the http-api reach
 * members live on every replica in log order; a member who was away meanwhile (a @stomp/stompjs
 * client that reconnects with x-since-seq) gets them with the missed messages, the messages already
 * in their current state; and history says the same.
 */
const skip = skipWithoutCluster() || skipWithout("nginx");

const isMessage = (f: Frame) => f.command === "MESSAGE";

describe.skipIf(skip)("edits and deletes across replicas", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster(3);
  }, 120_000);
  afterAll(async () => {
    await c?.destroy();
  }, 60_000);

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(c.url(path), {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
  };

  test("live on every replica, caught up after a reconnect, and in history: one view", async () => {
    const [alice, bob, carol] = [await signup(c, "alice"), await signup(c, "bob"), await signup(c, "carol")];
    const roomId = await roomOf(c, [alice, bob, carol]);
    const dest = `/topic/rooms/${roomId}`;
    const urls = wsNodes(c.state()).map((p) => `${p.url.replace("http:", "ws:")}/ws`);
    expect(urls).toHaveLength(3);
    const subscribe = async (url: string, token: string) => {
      const s = await RawStomp.connect(url, token);
      s.sendFrame("SUBSCRIBE", { id: "room", destination: dest, receipt: "sub" });
      await s.next((f) => f.command === "RECEIPT");
      return s;
    };
    const a = await subscribe(urls[0]!, alice.token);
    const b = await subscribe(urls[1]!, bob.token);
    // carol, on the third replica, through @stomp/stompjs as the web client does.
    const carolClient = await new ChatClient(urls[2]!, carol, roomId).start();

    const send = async (s: RawStomp, text: string) => {
      s.sendFrame("SEND", { destination: dest, receipt: text }, JSON.stringify({ text }));
      const r = await s.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === text, 15_000);
      return Number(r.headers.seq);
    };
    // Every subscription live before the lines under test. A SUBSCRIBE's RECEIPT precedes its replay,
    // which waits (up to 2 s) for the replica's Kafka reader to catch up: on a busy machine a replay
    // still under way would send helo and oops from memory already edited and deleted, their current
    // state, rather than as they were said. A message that every member has received ends them.
    const ready = await send(a, "ready");
    const isReady = (s: RawStomp) => (f: Frame) => isMessage(f) && JSON.parse(s.body(f)).seq === ready;
    await Promise.all([a.next(isReady(a), 15_000), b.next(isReady(b), 15_000)]);
    await eventually(() => carolClient.texts().includes("ready"), "carol is live", 15_000);

    const helo = await send(a, "helo");
    const oops = await send(b, "oops");
    await eventually(() => carolClient.texts().includes("oops"), "carol has both messages", 15_000);
    // carol goes away; meanwhile alice fixes her typo and, as the owner, deletes bob's message.
    await carolClient.client.deactivate();
    const edited = await call("PATCH", `/api/rooms/${roomId}/messages/${helo}`, alice.token, {
      text: "hello",
    });
    expect(edited.status).toBe(200);
    const deleted = await call("DELETE", `/api/rooms/${roomId}/messages/${oops}`, alice.token);
    expect([200, 204]).toContain(deleted.status);

    // Live, on replicas 0 and 1: the same lines in the same order, with their seqs (the join lines a
    // subscription replays first are left out).
    const lines = async (s: RawStomp, n: number) => {
      const out: ChatMessage[] = [];
      while (out.length < n) {
        const m = JSON.parse(s.body(await s.next(isMessage, 15_000))) as ChatMessage;
        if (m.seq >= helo) out.push(m);
      }
      return out;
    };
    const seenA = await lines(a, 4);
    const seenB = await lines(b, 4);
    expect(seenB).toEqual(seenA);
    expect(seenA.map((m) => [m.type, m.text, m.target?.seq])).toEqual([
      ["message", "helo", undefined],
      ["message", "oops", undefined],
      ["edit", "hello", helo],
      ["delete", "", oops],
    ]);
    const [editSeq, deleteSeq] = [seenA[2]!.seq, seenA[3]!.seq];

    // carol comes back (the stompjs client resubscribes with x-since-seq of what it has): the edit
    // and the delete arrive with the missed lines.
    carolClient.client.activate();
    await eventually(
      () => carolClient.received.some((r) => r.seq === deleteSeq),
      "carol catches up with the edit and the delete",
      15_000,
    );
    const caughtUp = carolClient.received.filter((r) => r.seq > oops);
    expect(caughtUp.map((r) => [r.seq, r.type, r.text])).toEqual([
      [editSeq, "edit", "hello"],
      [deleteSeq, "delete", ""],
    ]);

    // A fresh subscription from the start, on another replica, and the history: messages in their
    // current state (the edited text, a tombstone), then the edit and delete lines.
    const view = (list: ChatMessage[]) =>
      list
        .filter((m) => m.seq >= helo)
        .map((m) => [m.seq, m.type, m.text, m.editedAt !== undefined, m.deletedAt !== undefined]);
    const expected = [
      [helo, "message", "hello", true, false],
      [oops, "message", "", false, true],
      [editSeq, "edit", "hello", false, false],
      [deleteSeq, "delete", "", false, false],
    ];
    await eventually(
      async () => {
        const h = await call("GET", `/api/rooms/${roomId}/messages?limit=50`, bob.token);
        return JSON.stringify(view(h.body.messages)) === JSON.stringify(expected);
      },
      "history in its current state",
      15_000,
    );
    const fresh = await RawStomp.connect(urls[2]!, bob.token);
    fresh.sendFrame("SUBSCRIBE", { id: "again", destination: dest, "x-since-seq": String(helo - 1) });
    expect(view(await lines(fresh, 4))).toEqual(expected);

    for (const s of [a, b, fresh]) s.close();
    await carolClient.client.deactivate();
  }, 90_000);
});
