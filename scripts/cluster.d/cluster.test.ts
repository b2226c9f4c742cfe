import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChatClient, roomOf, signup, startTestCluster, type TestCluster } from "../../testkit/cluster.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { skipWithout } from "../../testkit/services.ts";

/**
 * `scripts/cluster` against the real services, in its own directory, ports, Kafka topic and MongoDB
 * database: up with three replicas behind nginx, a chat across replicas, status, logs, and a live
 * 3 → 5 → 2 scale under a steady stream of messages.
 */
const skip = (["kafka", "postgres", "mongo", "redis", "nginx"] as const).some((s) => skipWithout(s));

describe.skipIf(skip)("scripts/cluster", () => {
  let c: TestCluster;
  /** Clients and timers of the tests, closed before the cluster goes down even when a test failed. */
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    c = await startTestCluster(3, { SEND_RATE_PER_SEC: "200", SEND_BURST: "200", SHUTDOWN_GRACE_MS: "5000" });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(cleanups.map(async (f) => f()));
    await c?.destroy();
  }, 60_000);

  test("up --replicas 3: processes, ports and the chat through nginx, two clients on two replicas", async () => {
    const s = c.state();
    expect(s.processes.map((p) => p.name).sort()).toEqual(
      ["http-api", "nginx", "presence-node", "ws-node-1", "ws-node-2", "ws-node-3"].sort(),
    );
    const page = await fetch(c.url("/"));
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toMatch(/src="\/app\.[0-9a-z]+\.js"/);

    const [alice, bob] = [await signup(c, "alice"), await signup(c, "bob")];
    const roomId = await roomOf(c, [alice, bob]);
    const a = await RawStomp.connect(c.url("/ws", "ws"), alice.token);
    cleanups.push(() => a.close());
    const b = await RawStomp.connect(c.url("/ws", "ws"), bob.token);
    cleanups.push(() => b.close());
    // least_conn put them on different replicas: each replica's own metrics say where they are.
    const perReplica = [...(await c.connectionsPerReplica()).values()].sort();
    expect(perReplica).toEqual([0, 1, 1]);

    const dest = `/topic/rooms/${roomId}`;
    for (const [client, id] of [
      [a, "sa"],
      [b, "sb"],
    ] as const) {
      client.sendFrame("SUBSCRIBE", { id, destination: dest, receipt: `r-${id}` });
      await client.next((f) => f.command === "RECEIPT");
    }
    a.sendFrame("SEND", { destination: dest, receipt: "m1" }, '{"text":"hello from alice"}');
    await a.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "m1");
    b.sendFrame("SEND", { destination: dest, receipt: "m2" }, '{"text":"hello from bob"}');
    await b.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "m2");
    for (const client of [a, b]) {
      const texts: string[] = [];
      while (texts.length < 2) {
        const f = await client.next((x) => x.command === "MESSAGE");
        const m = JSON.parse(client.body(f));
        if (m.type === "message") texts.push(m.text);
      }
      expect(texts).toEqual(["hello from alice", "hello from bob"]);
    }

    // /presence is routed to the presence-node: a member gets the room's snapshot.
    const presence = await RawStomp.connect(c.url("/presence", "ws"), alice.token);
    cleanups.push(() => presence.close());
    presence.sendFrame("SUBSCRIBE", { id: "p", destination: `/topic/presence/rooms/${roomId}` });
    const snapshot = JSON.parse(presence.body(await presence.next((f) => f.command === "MESSAGE")));
    expect(snapshot.type).toBe("snapshot");
    for (const client of [a, b, presence]) client.close();
  }, 30_000);

  test("status shows live figures: health, connections and messages per process, Kafka lag", async () => {
    const [carol] = [await signup(c, "carol")];
    const roomId = await roomOf(c, [carol]);
    const client = await new ChatClient(c.url("/ws", "ws"), carol, roomId).start();
    try {
      await statusWhileConnected(client, roomId);
    } finally {
      await client.client.deactivate();
    }
  }, 30_000);

  async function statusWhileConnected(client: ChatClient, roomId: string) {
    for (let i = 0; i < 3; i++)
      client.client.publish({ destination: `/topic/rooms/${roomId}`, body: `{"text":"s${i}"}` });
    await eventually(() => client.texts().length === 3, "three messages back", 10_000);

    type Status = {
      processes: {
        name: string;
        health: string;
        connections?: number;
        messagesIn?: number;
        messagesOut?: number;
      }[];
      lag?: { total: number; group: string; partitions: { committed: number }[] };
    };
    const status = async (): Promise<Status> => {
      const json = await c.cli("status", "--json");
      expect(json.code).toBe(0);
      return JSON.parse(json.stdout);
    };
    let s = await status();
    expect(s.processes.every((p) => p.health === "ready")).toBe(true);
    const ws = s.processes.filter((p) => p.name.startsWith("ws-node"));
    expect(ws.reduce((n, p) => n + (p.connections ?? 0), 0)).toBe(1);
    // Two SENDs from the first test and three here; MESSAGEs out include those of the first test.
    expect(ws.reduce((n, p) => n + (p.messagesIn ?? 0), 0)).toBe(5);
    expect(ws.reduce((n, p) => n + (p.messagesOut ?? 0), 0)).toBeGreaterThanOrEqual(3 + 4);
    // The backlog writers' group (named per topic by the Kafka bus) catches up: its lag falls to 0.
    expect(s.lag?.group).toBe(`chattalk-backlog-writer.${c.env.KAFKA_TOPIC}`);
    for (let i = 0; i < 50 && s.lag?.total !== 0; i++) {
      await Bun.sleep(200);
      s = await status();
    }
    expect(s.lag?.total).toBe(0);
    expect(s.lag?.partitions.some((p) => p.committed > 0)).toBe(true);

    const text = await c.cli("status");
    expect(text.stdout).toMatch(
      /^NAME\s+PID\s+PORT\s+HEALTH\s+RESTARTS\s+LAST EXIT\s+CONNS\s+MSGS IN\s+MSGS OUT\s+URL/,
    );
    expect(text.stdout).toMatch(/\nws-node-1\s+\d+\s+\d+\s+ready\s+0\s+-\s+\d+\s+\d+\s+\d+\s+http:/);
    expect(text.stdout).toMatch(
      /kafka lag of chattalk-backlog-writer\.chattalk\.cluster-test\.\S+ on chattalk\.cluster-test\.\S+: 0 /,
    );
  }

  test("logs <name> prints that process's structured log", async () => {
    const res = await c.cli("logs", "ws-node-2");
    expect(res.code).toBe(0);
    const lines = res.stdout.split("\n").filter((l) => l.startsWith("{"));
    expect(lines.map((l) => JSON.parse(l).msg)).toContain("ws-node listening");
    expect((await c.cli("logs", "no-such-process")).code).toBe(1);
  });

  test("scale 3 → 5 → 2 under a steady stream: every receipted message reaches every receiver once, in order", async () => {
    const users = await Promise.all(["sender", "r1", "r2", "r3", "r4", "r5", "r6"].map((n) => signup(c, n)));
    const roomId = await roomOf(c, users);
    const dest = `/topic/rooms/${roomId}`;
    const receivers = users.slice(1).map((u) => new ChatClient(c.url("/ws", "ws"), u, roomId));
    const sender = new ChatClient(c.url("/ws", "ws"), users[0]!, undefined);
    const everyone = [...receivers, sender];
    for (const r of everyone) cleanups.push(() => r.client.deactivate());
    // r5 and r6 connect only once there are five replicas; their first SUBSCRIBE replays from their join.
    await Promise.all([...receivers.slice(0, 4), sender].map((r) => r.start()));

    // 20 messages a second, each with a receipt; a SEND whose connection drops is not retried.
    const receipted: string[] = [];
    let n = 0;
    const timer = setInterval(() => {
      if (!sender.client.connected) return;
      const text = `m${++n}`;
      const receipt = `rcpt-${n}`;
      sender.client.watchForReceipt(receipt, () => receipted.push(text));
      sender.client.publish({ destination: dest, body: JSON.stringify({ text }), headers: { receipt } });
    }, 50);
    cleanups.push(() => clearInterval(timer));

    const scaleTo = async (replicas: number) => {
      const res = await c.cli("scale", String(replicas));
      expect(res.code, res.stderr).toBe(0);
      expect(c.state().processes.filter((p) => p.kind === "ws-node")).toHaveLength(replicas);
    };
    await Bun.sleep(1_500);
    await scaleTo(5);
    await Promise.all(receivers.slice(4).map((r) => r.start()));
    await Bun.sleep(1_500);
    const before = await c.connectionsPerReplica();
    await scaleTo(2);
    await Bun.sleep(2_000);
    clearInterval(timer);
    const receiptedWhenStopped = receipted.length;
    await Bun.sleep(300);
    const allReceipted = [...receipted];

    await eventually(
      () => receivers.every((r) => allReceipted.every((t) => r.texts().includes(t))),
      "every receipted message at every receiver",
      20_000,
    ).catch(() => {});

    for (const r of receivers) {
      const seqs = r.received.map((m) => m.seq);
      const duplicates = seqs.length - new Set(seqs).size;
      const outOfOrder = seqs.filter((s, i) => i > 0 && s <= seqs[i - 1]!).length;
      const missing = allReceipted.filter((t) => !r.texts().includes(t));
      expect({ duplicates, outOfOrder, missing }).toEqual({ duplicates: 0, outOfOrder: 0, missing: [] });
      expect(r.errors).toEqual([]);
    }
    expect(receiptedWhenStopped).toBeGreaterThan(50);
    // The replicas that were removed had clients: those reconnected (through nginx) to the others.
    const drained = ["ws-node-3", "ws-node-4", "ws-node-5"].reduce(
      (sum, name) => sum + (before.get(name) ?? 0),
      0,
    );
    const reconnects = everyone.reduce((sum, r) => sum + r.connects - 1, 0);
    expect(drained).toBeGreaterThan(0);
    expect(reconnects).toBeGreaterThanOrEqual(drained);
    // Nobody is left disconnected: all seven are connected, to the two remaining replicas.
    await eventually(() => everyone.every((r) => r.client.connected), "all connected", 10_000);
    const per = await c.connectionsPerReplica();
    expect([...per.keys()].sort()).toEqual(["ws-node-1", "ws-node-2"]);
    expect([...per.values()].reduce((a, b) => a + b, 0)).toBe(everyone.length);
    console.log(
      `scale test: ${allReceipted.length} receipted of ${n} sent; connections before scale-down ` +
        `${JSON.stringify(Object.fromEntries(before))}; reconnects ${reconnects}; ` +
        `per receiver ${receivers.map((r) => `${r.received.length} received/${r.connects} connects`).join(", ")}`,
    );
  }, 90_000);
});
