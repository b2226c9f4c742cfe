import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import { openBacklog, openStores } from "../../lib/backends.ts";
import { newDraft } from "../../lib/chat/message.ts";
import { parseConfig } from "../../lib/config/index.ts";
import { type AppProcess, startAppProcess } from "../../testkit/app-process.ts";
import { EMBEDDED_ONLY } from "../../testkit/embedded-app.ts";
import { eventually } from "../../testkit/eventually.ts";
import { OwnKafka } from "../../testkit/fixtures/own-kafka.ts";
import { ResumingReceiver, RetryingSender } from "../../testkit/retrying-client.ts";
import { servicesRequired } from "../../testkit/services.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/**
 * Issue 14: two ws-node replicas on a Kafka of this test's own, which is frozen (SIGSTOP) and later
 * killed and restarted while members keep chatting. Every sender retries whatever was not receipted
 * (refused, unanswered, connection lost) with the same x-client-msg-id, on whichever replica it gets;
 * copies two replicas both appended are added on purpose. Every logical message must be exactly once
 * in the history and exactly once at every receiver.
 */
const libs = OwnKafka.libs();
if (!libs && servicesRequired)
  throw new Error("the Kafka jars are required (run `bash scripts/services up`)");
const SENDERS = 4;
const PER_SENDER = 40;

describe.skipIf(!libs)("exactly once through Kafka faults", () => {
  let kafka: OwnKafka;
  const nodes: WsHarness[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "chattalk-exactly-once-"));

  beforeAll(async () => {
    if (!libs) return;
    kafka = await OwnKafka.create();
    for (const id of ["n1", "n2"]) {
      nodes.push(
        await startWsHarness({
          DATA_DIR: dataDir,
          NODE_ID: id,
          KAFKA_BROKERS: kafka.brokers,
          KAFKA_TOPIC: "exactly-once",
          KAFKA_PARTITIONS: "2",
          BUS_SEND_TIMEOUT_MS: "2000",
          SEND_RATE_PER_SEC: "1000",
          SEND_BURST: "1000",
        }),
      );
    }
  }, 180_000);

  afterAll(async () => {
    for (const n of nodes) await n.stop().catch(() => {});
    await kafka?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("Kafka frozen, then killed mid-stream: every message once in history and at every receiver", async () => {
    const [n1, n2] = nodes as [WsHarness, WsHarness];
    const users = await Promise.all(Array.from({ length: SENDERS + 2 }, (_, i) => n1.user(`m${i}`)));
    const room = await n1.room(users[0]!.user.id);
    for (const u of users.slice(1)) await n1.join(room.id, u.user.id);
    const dest = `/topic/rooms/${room.id}`;
    const urls = [n1.url, n2.url];

    const receivers = [n1, n2].map((n, i) => new ResumingReceiver(n.url, users[SENDERS + i]!.token, dest));
    for (const r of receivers) await r.connect();
    const senders = users.slice(0, SENDERS).map((u, i) => new RetryingSender(urls, u.token, dest, i));
    for (const s of senders) await s.connect();

    // Chat at a steady pace while the faults happen.
    const chatting = (async () => {
      for (let k = 0; k < PER_SENDER; k++) {
        for (const [i, s] of senders.entries()) s.send(`s${i}-m${k}`, `sender ${i} message ${k}`);
        await Bun.sleep(150);
      }
    })();
    await Bun.sleep(1_500);
    kafka.freeze();
    await Bun.sleep(6_000);
    kafka.thaw();
    await Bun.sleep(2_000);
    await kafka.kill();
    await kafka.start();
    await chatting;
    await eventually(() => senders.every((s) => s.unreceipted === 0), "every message receipted", 120_000);

    // Copies of receipted messages, as two replicas racing on retries append them.
    const raced = [...senders[0]!.outbox.values()].slice(0, 3);
    const sender = { id: users[0]!.user.id, username: users[0]!.user.username };
    for (const o of raced)
      await n2.backends.bus.publish(newDraft(room.id, "message", sender, o.text, { clientMsgId: o.id }));
    senders[1]!.send("last", "the last one");
    await eventually(() => senders[1]!.unreceipted === 0, "the last message receipted", 30_000);

    const logical = new Set(senders.flatMap((s) => [...s.outbox.keys()]));
    expect(logical.size).toBe(SENDERS * PER_SENDER + 1);
    for (const r of receivers) {
      await eventually(
        () => r.deliveries.some((d) => d.clientMsgId === "last"),
        "a receiver to get the last",
        60_000,
      );
      const counts = new Map<string, number>();
      for (const d of r.deliveries)
        if (d.clientMsgId) counts.set(d.clientMsgId, (counts.get(d.clientMsgId) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual([...logical].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    }
    const backlog = n1.backends.backlog;
    await eventually(
      async () => (await backlog.after(room.id, 0, 10_000)).some((m) => m.clientMsgId === "last"),
      "the backlog writers to store the last",
      60_000,
    );
    const stored = (await backlog.after(room.id, 0, 10_000)).map((m) => m.clientMsgId);
    expect(stored.length).toBe(logical.size);
    expect(new Set(stored)).toEqual(logical);
    // Every sender's RECEIPT names the stored copy.
    const seqOf = new Map((await backlog.after(room.id, 0, 10_000)).map((m) => [m.clientMsgId, m.seq]));
    for (const s of senders) for (const o of s.outbox.values()) expect(o.seq).toBe(seqOf.get(o.id)!);

    const dropped = nodes.map((n) => n.node.duplicates.stats.dropped);
    console.log(
      `exactly once: ${logical.size} messages, attempts ${senders.reduce((sum, s) => sum + [...s.outbox.values()].reduce((a, o) => a + o.attempts, 0), 0)},`,
      `refusals ${JSON.stringify(Object.fromEntries(senders.flatMap((s) => [...s.refusals])))},`,
      `reconnects ${senders.reduce((sum, s) => sum + s.reconnects, 0)}, copies dropped per node ${dropped.join("/")}`,
    );
    for (const d of dropped) expect(d).toBeGreaterThanOrEqual(raced.length);
    // A stalled bus refuses SENDs one by one; it never closes a connection.
    expect(senders.reduce((sum, s) => sum + s.reconnects, 0)).toBe(0);
    for (const s of senders) s.stop();
    for (const r of receivers) r.stop();
  }, 300_000);
});

describe("exactly once through a crash of the one-process node (embedded bus)", () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-exactly-once-embedded-"));
  const env = {
    DATA_DIR: dir,
    JWT_SECRET: "exactly-once-secret-long-enough-for-hs256",
    SEND_RATE_PER_SEC: "1000",
    SEND_BURST: "1000",
    ...EMBEDDED_ONLY,
  };
  let node: AppProcess | undefined;
  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("kill -9 mid-stream, restart, every client retries: every message once, history too", async () => {
    const config = parseConfig(env);
    const stores = await openStores(config);
    const tokens = tokenServiceFromConfig(config);
    const users = await Promise.all(
      Array.from({ length: 4 }, (_, i) => stores.users.createUser(`e${i}${Date.now().toString(36)}`, "x")),
    );
    const room = await stores.rooms.createRoom({ name: "crash", ownerId: users[0]!.id, maxMembers: 10 });
    for (const u of users.slice(1)) await stores.rooms.join(room.id, u.id, 0);
    const issued = await Promise.all(users.map((u) => tokens.issueAccessToken(u)));
    await stores.close();
    node = await startAppProcess("apps/ws-node/main.ts", env);
    const port = new URL(node.url).port;
    const url = `ws://127.0.0.1:${port}/ws`;
    const dest = `/topic/rooms/${room.id}`;

    const receiver = new ResumingReceiver(url, issued[3]!, dest);
    await receiver.connect();
    const senders = issued.slice(0, 3).map((t, i) => new RetryingSender([url], t, dest, i, 3_000));
    for (const s of senders) await s.connect();
    const chatting = (async () => {
      for (let k = 0; k < 40; k++) {
        for (const [i, s] of senders.entries()) s.send(`e${i}-${k}`, `sender ${i} message ${k}`);
        await Bun.sleep(25);
      }
    })();
    await Bun.sleep(400);
    node.proc.kill("SIGKILL");
    await node.proc.exited;
    node = await startAppProcess("apps/ws-node/main.ts", { ...env, PORT: port });
    await chatting;
    await eventually(() => senders.every((s) => s.unreceipted === 0), "every message receipted", 60_000);
    // A client that lost track after the crash sends everything again: each answered with the original.
    const again = new RetryingSender([url], issued[1]!, dest, 0, 3_000);
    await again.connect();
    for (const o of senders[1]!.outbox.values()) again.send(o.id, o.text);
    await eventually(() => again.unreceipted === 0, "the repeats receipted", 30_000);
    for (const o of again.outbox.values()) expect(o.seq).toBe(senders[1]!.outbox.get(o.id)!.seq!);
    again.stop();
    // Sent after everything else was stored: once the receiver has it, it has had its chance at the rest.
    senders[0]!.send("last", "the last one");
    await eventually(() => senders[0]!.unreceipted === 0, "the last message receipted", 30_000);
    const logical = new Set(senders.flatMap((s) => [...s.outbox.keys()]));
    await eventually(() => receiver.deliveries.some((d) => d.clientMsgId === "last"), "the receiver", 30_000);
    const counts = new Map<string, number>();
    for (const d of receiver.deliveries) counts.set(d.clientMsgId!, (counts.get(d.clientMsgId!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...logical].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    for (const s of senders) s.stop();
    receiver.stop();
    await node.stop();
    node = undefined;
    // The history, once the node is gone: every logical message once, under the seq its RECEIPT named.
    const backlog = await openBacklog(config);
    const stored = await backlog.after(room.id, 0, 10_000);
    await backlog.close();
    expect(stored.length).toBe(logical.size);
    const seqOf = new Map(stored.map((m) => [m.clientMsgId, m.seq]));
    for (const s of senders) for (const o of s.outbox.values()) expect(o.seq).toBe(seqOf.get(o.id)!);
    const attempts = senders.reduce(
      (sum, s) => sum + [...s.outbox.values()].reduce((a, o) => a + o.attempts, 0),
      0,
    );
    console.log(
      `embedded crash: ${logical.size} messages, ${attempts} attempts, ${again.outbox.size} repeats`,
    );
  }, 120_000);
});
