import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, type IMessage } from "@stomp/stompjs";
import webstomp from "webstomp-client";
import type { Room } from "../../lib/store/types.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/** Real client libraries, unchanged, against the server. */
let h: WsHarness;
let room: Room;
let alice: string;
let bob: string;
let aliceActor: { userId: string; username: string };
beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "100", SEND_BURST: "100" });
  const a = await h.user("alice");
  const b = await h.user("bob");
  alice = a.token;
  bob = b.token;
  aliceActor = { userId: a.user.id, username: a.user.username };
  room = await h.room(a.user.id);
  await h.join(room.id, b.user.id);
});
afterAll(() => h.stop());

function stompjs(token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client({
      brokerURL: h.url,
      connectHeaders: { Authorization: `Bearer ${token}` },
      reconnectDelay: 0,
      heartbeatIncoming: 1000,
      heartbeatOutgoing: 1000,
      onConnect: () => resolve(client),
      onStompError: (f) => reject(new Error(f.headers.message)),
    });
    client.activate();
  });
}

function collect(n: number): {
  messages: IMessage[];
  done: Promise<IMessage[]>;
  push: (m: IMessage) => void;
} {
  const messages: IMessage[] = [];
  let resolve: (m: IMessage[]) => void = () => {};
  const done = new Promise<IMessage[]>((r) => (resolve = r));
  return {
    messages,
    done,
    push(m) {
      messages.push(m);
      if (messages.length === n) resolve(messages);
    },
  };
}

describe("@stomp/stompjs 7", () => {
  test("connect, subscribe, publish with receipt, receive in order, disconnect", async () => {
    const a = await stompjs(alice);
    const b = await stompjs(bob);
    expect(a.connectedVersion).toBe("1.2");
    const got = collect(5);
    const subscribed = new Promise<void>((resolve) => b.watchForReceipt("sub", () => resolve()));
    b.subscribe(`/topic/rooms/${room.id}`, (m) => got.push(m), { receipt: "sub" });
    await subscribed;
    const receipts: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      const receipt = `send-${i}`;
      receipts.push(new Promise((resolve) => a.watchForReceipt(receipt, () => resolve())));
      a.publish({
        destination: `/topic/rooms/${room.id}`,
        body: JSON.stringify({ text: `hello ${i}` }),
        headers: { receipt },
      });
    }
    await Promise.all(receipts);
    const messages = await got.done;
    expect(messages.map((m) => JSON.parse(m.body).text)).toEqual([0, 1, 2, 3, 4].map((i) => `hello ${i}`));
    expect(messages[0]!.headers.subscription).toBeTruthy();
    await a.deactivate();
    await b.deactivate();
  });

  test("the chat-feature destinations, unchanged: typing, read receipts, the live room list, edit lines", async () => {
    const a = await stompjs(alice);
    const b = await stompjs(bob);
    const subscribe = (c: Client, destination: string, push: (m: IMessage) => void) => {
      const receipt = `sub-${destination}`;
      const done = new Promise<void>((resolve) => c.watchForReceipt(receipt, () => resolve()));
      c.subscribe(destination, push, { receipt });
      return done;
    };
    const typing = collect(1);
    const receipts = collect(1);
    const events = collect(1);
    const lines = collect(2);
    await subscribe(b, `/topic/rooms/${room.id}/typing`, (m) => typing.push(m));
    await subscribe(b, `/topic/rooms/${room.id}/receipts`, (m) => receipts.push(m));
    await subscribe(b, "/user/queue/events", (m) => events.push(m));
    const [list] = await events.done;
    expect(JSON.parse(list!.body)).toMatchObject({ type: "rooms" });
    expect(JSON.parse(list!.body).rooms.map((r: Room) => r.id)).toContain(room.id);
    expect(JSON.parse((await receipts.done)[0]!.body)).toMatchObject({ type: "receipts" });

    a.publish({ destination: `/topic/rooms/${room.id}/typing`, body: JSON.stringify({ typing: true }) });
    expect(JSON.parse((await typing.done)[0]!.body)).toMatchObject({ type: "typing", count: 1 });

    // An edit reaches a stompjs subscriber as one more line of the room, naming its target.
    await subscribe(b, `/topic/rooms/${room.id}`, (m) => {
      const line = JSON.parse(m.body);
      if (line.text === "helo" || line.type === "edit") lines.push(m);
    });
    const stored = new Promise<string>((resolve) =>
      a.watchForReceipt("typo", (f) => resolve(f.headers.seq ?? "")),
    );
    a.publish({
      destination: `/topic/rooms/${room.id}`,
      body: JSON.stringify({ text: "helo" }),
      headers: { receipt: "typo" },
    });
    const seq = Number(await stored);
    await h.node.chat.messages.edit(aliceActor, room.id, seq, { text: "hello" });
    const [sent, edit] = (await lines.done).map((m) => JSON.parse(m.body));
    expect(sent).toMatchObject({ type: "message", seq, text: "helo" });
    expect(edit).toMatchObject({ type: "edit", text: "hello", target: { seq } });
    await a.deactivate();
    await b.deactivate();
  });

  test("client ack mode with message.ack()", async () => {
    const a = await stompjs(alice);
    const b = await stompjs(bob);
    const got = collect(1);
    const subscribed = new Promise<void>((resolve) => b.watchForReceipt("s2", () => resolve()));
    b.subscribe(`/topic/rooms/${room.id}`, (m) => got.push(m), {
      ack: "client-individual",
      receipt: "s2",
      "x-since-seq": "999999999",
    });
    await subscribed;
    a.publish({ destination: `/topic/rooms/${room.id}`, body: JSON.stringify({ text: "ack me" }) });
    const [m] = await got.done;
    expect(m!.headers.ack).toBeTruthy();
    const acked = new Promise<void>((resolve) => b.watchForReceipt("ack", () => resolve()));
    m!.ack({ receipt: "ack" });
    await acked;
    expect(b.connected).toBe(true);
    await a.deactivate();
    await b.deactivate();
  });

  test("a refused login surfaces as a STOMP ERROR", async () => {
    await expect(stompjs("not-a-token")).rejects.toThrow("authentication failed");
  });
});

describe("webstomp-client", () => {
  test("negotiates 1.2 through the subprotocol and chats", async () => {
    const connect = (token: string) =>
      new Promise<ReturnType<typeof webstomp.client>>((resolve, reject) => {
        const c = webstomp.client(h.url, { debug: false, heartbeat: false });
        c.connect(
          { passcode: token, login: "" },
          () => resolve(c),
          (e) => reject(e),
        );
      });
    const a = await connect(alice);
    const b = await connect(bob);
    expect(a.ws.protocol).toBe("v12.stomp");
    const got = collect(2);
    b.subscribe(`/topic/rooms/${room.id}`, (m) => got.push(m as unknown as IMessage), {
      id: "w-0",
      "x-since-seq": "999999999",
    });
    // webstomp has no receipt helper; a SEND after the SUBSCRIBE on another socket may overtake it.
    await Bun.sleep(100);
    a.send(`/topic/rooms/${room.id}`, JSON.stringify({ text: "from webstomp 1" }));
    a.send(`/topic/rooms/${room.id}`, JSON.stringify({ text: "from webstomp 2" }));
    const messages = await got.done;
    expect(messages.map((m) => JSON.parse(m.body).text)).toEqual(["from webstomp 1", "from webstomp 2"]);
    expect(messages[0]!.headers.subscription).toBe("w-0");
    a.disconnect();
    b.disconnect();
  });
});
