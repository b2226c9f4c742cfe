import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import { openBacklog, openStores } from "../../lib/backends.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import { BACKLOG_WRITER_GROUP } from "../../lib/backlog/writer.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";
import { type Config, parseConfig } from "../../lib/config/index.ts";
import { parseExposition, type Sample } from "../../lib/metrics/index.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import type { Stores } from "../../lib/store/types.ts";
import { type AppProcess, startAppProcess } from "../../testkit/app-process.ts";
import { clusterEnv, skipWithoutCluster } from "../../testkit/cluster-env.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

/**
 * Three ws-node processes sharing one Kafka, Postgres, MongoDB-protocol backlog and Redis: the
 * cluster behaviour of issue 5, with real processes and real services.
 */
const skip = skipWithoutCluster();
const run = Date.now().toString(36);
const env = clusterEnv(run);

let config: Config;
let stores: Stores;
let backlog: Backlog;
const nodes: AppProcess[] = [];
const url = (i: number) => `${nodes[i]!.url.replace("http:", "ws:")}/ws`;

beforeAll(async () => {
  if (skip) return;
  config = parseConfig(env);
  stores = await openStores(config);
  backlog = await openBacklog(config);
  for (let i = 0; i < 3; i++)
    nodes.push(await startAppProcess("apps/ws-node/main.ts", { ...env, NODE_ID: `r${i}-${run}` }));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()));
  await stores?.close();
  await backlog?.close();
}, 60_000);

const tokens = () => tokenServiceFromConfig(config);
let n = 0;
async function member(roomId: string | undefined) {
  const user = await stores.users.createUser(`u${run}${++n}`, "x");
  if (roomId) await stores.rooms.join(roomId, user.id, 0);
  return { user, token: await tokens().issueAccessToken(user) };
}
async function newRoom() {
  const owner = await stores.users.createUser(`o${run}${++n}`, "x");
  const room = await stores.rooms.createRoom({ name: `r${n}`, ownerId: owner.id, maxMembers: 100 });
  return { room, owner: { user: owner, token: await tokens().issueAccessToken(owner) } };
}
const isMessage = (f: Frame) => f.command === "MESSAGE";
const body = (f: Frame) => JSON.parse(new TextDecoder().decode(f.body)) as ChatMessage;

async function subscribe(node: number, token: string, roomId: string, headers: Record<string, string> = {}) {
  const c = await RawStomp.connect(url(node), token);
  c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: `/topic/rooms/${roomId}`, receipt: "s", ...headers });
  await c.next((f) => f.command === "RECEIPT");
  return c;
}

async function sendWithReceipts(c: RawStomp, roomId: string, texts: string[]): Promise<void> {
  for (const t of texts) {
    c.sendFrame("SEND", { destination: `/topic/rooms/${roomId}`, receipt: t }, JSON.stringify({ text: t }));
  }
  for (const t of texts)
    await c.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === t, 15_000);
}

async function receive(c: RawStomp, count: number): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  for (let i = 0; i < count; i++) out.push(body(await c.next(isMessage, 15_000)));
  return out;
}

describe.skipIf(skip)("ws-node replicas on Kafka", () => {
  test("clients on three replicas in one room all receive every message once, in the same order", async () => {
    const { room, owner } = await newRoom();
    const b = await member(room.id);
    const c = await member(room.id);
    const clients = [
      await subscribe(0, owner.token, room.id),
      await subscribe(1, b.token, room.id),
      await subscribe(2, c.token, room.id),
    ];
    const texts = (p: string) => Array.from({ length: 20 }, (_, i) => `${p}${i}`);
    await Promise.all([
      sendWithReceipts(clients[0]!, room.id, texts("a")),
      sendWithReceipts(clients[1]!, room.id, texts("b")),
    ]);
    const got = await Promise.all(clients.map((cl) => receive(cl, 40)));
    const seqs = got.map((list) => list.map((m) => m.seq));
    expect(seqs[1]).toEqual(seqs[0]!);
    expect(seqs[2]).toEqual(seqs[0]!);
    expect(new Set(seqs[0]).size).toBe(40);
    expect([...seqs[0]!].sort((x, y) => x - y)).toEqual(seqs[0]!);
    await Bun.sleep(200);
    for (const cl of clients) expect(cl.take("MESSAGE")).toHaveLength(0);
    for (const cl of clients) cl.close();
  }, 60_000);

  test("a member who reconnects to a different replica gets exactly what was missed, then live", async () => {
    const { room, owner } = await newRoom();
    const away = await member(room.id);
    const talker = await subscribe(1, owner.token, room.id);
    const first = await subscribe(0, away.token, room.id);
    await sendWithReceipts(talker, room.id, ["seen"]);
    expect((await receive(first, 1))[0]!.text).toBe("seen");
    first.sendFrame("DISCONNECT", { receipt: "bye" });
    await first.next((f) => f.command === "RECEIPT");

    const missed = Array.from({ length: 10 }, (_, i) => `missed${i}`);
    // Replica 2 is frozen meanwhile, so its Kafka reader is behind when the member arrives there: the
    // replay must still tell the missed messages (x-replay) from the live one.
    nodes[2]!.proc.kill("SIGSTOP");
    try {
      await sendWithReceipts(talker, room.id, missed);
    } finally {
      nodes[2]!.proc.kill("SIGCONT");
    }
    const back = await subscribe(2, away.token, room.id);
    const frames = [];
    for (let i = 0; i < 10; i++) frames.push(await back.next(isMessage, 15_000));
    expect(frames.map((f) => body(f).text)).toEqual(missed);
    expect(frames.map((f) => f.headers["x-replay"])).toEqual(missed.map(() => "true"));
    await sendWithReceipts(talker, room.id, ["now"]);
    const live = await back.next(isMessage, 15_000);
    expect(body(live).text).toBe("now");
    expect(live.headers["x-replay"]).toBeUndefined();
    talker.close();
    back.close();
  }, 60_000);

  test("SIGTERM of a replica: its clients reconnect elsewhere and continue exactly, without x-since-seq", async () => {
    const { room, owner } = await newRoom();
    const m = await member(room.id);
    const sender = await subscribe(1, owner.token, room.id);
    // A fresh replica to drain, so the others stay for the tests after.
    const extra = await startAppProcess("apps/ws-node/main.ts", { ...env, NODE_ID: `rx-${run}` });
    const extraUrl = `${extra.url.replace("http:", "ws:")}/ws`;
    const c = await RawStomp.connect(extraUrl, m.token);
    c.sendFrame("SUBSCRIBE", { id: "sub-0", destination: `/topic/rooms/${room.id}`, receipt: "s" });
    await c.next((f) => f.command === "RECEIPT");
    const first = Array.from({ length: 15 }, (_, i) => `t${i}`);
    await sendWithReceipts(sender, room.id, first);
    const got = (await receive(c, 15)).map((x) => x.text);
    extra.proc.kill("SIGTERM");
    expect((await c.closed).code).toBe(1001);
    await extra.proc.exited;
    const more = Array.from({ length: 5 }, (_, i) => `u${i}`);
    await sendWithReceipts(sender, room.id, more);
    // Reconnect with no position of its own: the server's saved read position must be exact.
    const back = await subscribe(2, m.token, room.id);
    got.push(...(await receive(back, 5)).map((x) => x.text));
    await Bun.sleep(300);
    expect(back.take("MESSAGE")).toHaveLength(0);
    expect(got).toEqual([...first, ...more]);
    sender.close();
    back.close();
    await extra.stop();
  }, 60_000);

  test("SIGKILL of a replica: every acknowledged message reaches every member once, and the backlog", async () => {
    const { room, owner } = await newRoom();
    const onDoomed = await member(room.id);
    const onOther = await member(room.id);
    const sender = await subscribe(2, owner.token, room.id);
    let doomed = await subscribe(0, onDoomed.token, room.id);
    const other = await subscribe(1, onOther.token, room.id);
    const acked: string[] = [];
    const received = { doomed: [] as ChatMessage[], other: [] as ChatMessage[] };
    const drain = (c: RawStomp, into: ChatMessage[]) => {
      for (const f of c.take("MESSAGE")) into.push(body(f));
    };

    for (let i = 0; i < 60; i++) {
      const t = `k${i}`;
      sender.sendFrame(
        "SEND",
        { destination: `/topic/rooms/${room.id}`, receipt: t },
        JSON.stringify({ text: t }),
      );
      await sender.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === t, 15_000);
      acked.push(t);
      if (i === 30) {
        drain(doomed, received.doomed);
        nodes[0]!.proc.kill("SIGKILL");
        await doomed.closed;
        // The client reconnects elsewhere and asks for everything after the last message it has.
        const last = received.doomed.at(-1)?.seq ?? 0;
        doomed = await subscribe(1, onDoomed.token, room.id, { "x-since-seq": String(last) });
      }
    }
    const until = performance.now() + 20_000;
    while (performance.now() < until) {
      drain(doomed, received.doomed);
      drain(other, received.other);
      if (received.doomed.length >= acked.length && received.other.length >= acked.length) break;
      await Bun.sleep(50);
    }
    await Bun.sleep(300);
    drain(doomed, received.doomed);
    drain(other, received.other);
    for (const list of [received.doomed, received.other]) {
      expect(list.map((m) => m.text)).toEqual(acked);
    }
    // The dead replica's backlog partitions move to a survivor once its Kafka session times out.
    let storedTexts: string[] = [];
    for (let i = 0; i < 80 && storedTexts.length < acked.length; i++) {
      storedTexts = (await backlog.after(room.id, 0, 1000)).map((m) => m.text);
      if (storedTexts.length < acked.length) await Bun.sleep(500);
    }
    expect(storedTexts).toEqual(acked);
    sender.close();
    doomed.close();
    other.close();
    // Replace the killed replica for any later test.
    nodes[0] = await startAppProcess("apps/ws-node/main.ts", { ...env, NODE_ID: `r0b-${run}` });
  }, 120_000);

  test("every replica's /metrics reports the backlog writers' real Kafka group, at 0 lag once caught up", async () => {
    const { room, owner } = await newRoom();
    const sender = await subscribe(1, owner.token, room.id);
    const texts = Array.from({ length: 20 }, (_, i) => `lag${i}`);
    await sendWithReceipts(sender, room.id, texts);
    sender.close();
    const group = `${BACKLOG_WRITER_GROUP}.${env.KAFKA_TOPIC}`;
    const lagOf = async (node: AppProcess) => {
      const samples = parseExposition(await (await fetch(`${node.url}/metrics`)).text());
      return samples.filter((s) => s.name === "chattalk_bus_consumer_lag_messages");
    };
    let lags: Sample[][] = [];
    for (let i = 0; i < 60; i++) {
      lags = await Promise.all(nodes.map(lagOf));
      const caughtUp = lags.every((l) => l.length === 1 && l[0]!.value === 0);
      if (caughtUp && (await backlog.after(room.id, 0, 100)).length === texts.length) break;
      await Bun.sleep(500);
    }
    for (const l of lags) {
      expect(l.map((s) => [s.labels.group, s.labels.topic, s.value])).toEqual([[group, env.KAFKA_TOPIC, 0]]);
    }
    expect((await backlog.after(room.id, 0, 100)).map((m) => m.text)).toEqual(texts);
  }, 60_000);
});
