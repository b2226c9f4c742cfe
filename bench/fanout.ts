/**
 * Fan-out benchmark: MESSAGE frames delivered per second to 1,000 subscribers of one room, against a
 * raw Bun.serve publishing a payload of the same size to 1,000 sockets on one topic, in the same run.
 * The servers run in this process; each one's 1,000 client sockets live in a child process
 * (bench/support/fanout-clients.ts) that counts arrivals and says when a round is complete.
 */
import type { ChatMessage } from "../lib/chat/message.ts";
import { newDraft } from "../lib/chat/message.ts";
import { encodeMessage } from "../lib/stomp/codec/message.ts";
import { startWsHarness, type WsHarness } from "../testkit/ws-harness.ts";
import { fmtInt, LineChild, median } from "./support/child.ts";
import { startRawPublisher } from "./support/raw-publisher.ts";

const SUBSCRIBERS = 1_000;
/** Messages published per round; at most WINDOW rounds in flight (8 × 100 × ~490 B ≈ 390 KiB per socket). */
const PER_ROUND = 100;
const WINDOW = 8;
const ROUNDS = 40;
const TRIALS = 7;
/** Per-socket send buffer limit, ours and the baseline's, closing the socket past it. */
const BUFFER_LIMIT = 1024 * 1024;
const TEXT = "Lunch at the usual place? I can book a table for 12:30.";
const CLIENTS = new URL("./support/fanout-clients.ts", import.meta.url).pathname;

interface Trial {
  deliveries: number;
  ms: number;
  /** CPU time of this process (the server side) per 1,000 deliveries, in ms. */
  cpuPerK: number;
  /** The same for the client process. */
  clientCpuPerK: number;
  bytes: number;
}

/** Publishes ROUNDS rounds through `publishRound`, keeping WINDOW rounds in flight; times the lot. */
async function trial(client: LineChild, publishRound: () => void | Promise<void>): Promise<Trial> {
  client.send("stats");
  const [startMessages, startBytes, , startClientCpu] = (await client.next("stats")).map(Number) as number[];
  const perRound = PER_ROUND * SUBSCRIBERS;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let published = 0;
  let last: number[] = [];
  for (; published < Math.min(WINDOW, ROUNDS); published++) await publishRound();
  for (let done = 1; done <= ROUNDS; done++) {
    client.send(`await ${startMessages! + done * perRound}`);
    last = (await client.next("reached")).map(Number);
    if (last[2]! > 0) throw new Error(`${last[2]} client sockets were closed during the trial`);
    if (published < ROUNDS) {
      await publishRound();
      published++;
    }
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const deliveries = last[0]! - startMessages!;
  if (deliveries !== ROUNDS * perRound) throw new Error(`expected ${ROUNDS * perRound}, got ${deliveries}`);
  const perK = (micros: number) => micros / deliveries;
  return {
    deliveries,
    ms,
    cpuPerK: perK(cpu.user + cpu.system),
    clientCpuPerK: perK(last[3]! - startClientCpu!),
    bytes: last[1]! - startBytes!,
  };
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Members of the room's live groups on the hub: all 1,000 once every replay has ended. */
function liveMembers(h: WsHarness, roomId: string): { groups: number; members: number } {
  for (const [id, room] of h.node.hub.localRooms()) {
    if (id !== roomId) continue;
    let members = 0;
    for (const g of room.groups.values()) members += g.members;
    return { groups: room.groups.size, members };
  }
  return { groups: 0, members: 0 };
}

export default async function run(): Promise<string> {
  const children: LineChild[] = [];
  let harness: WsHarness | undefined;
  const raw = startRawPublisher(BUFFER_LIMIT);
  try {
    harness = await startWsHarness({
      MAX_CONNECTIONS_PER_USER: "10000",
      // Every subscriber comes from this machine's one address.
      WS_MAX_CONNECTIONS_PER_IP: "100000",
      HEARTBEAT_MIN_CLIENT_MS: "1000",
      SEND_BUFFER_LIMIT_BYTES: String(BUFFER_LIMIT),
      SEND_RATE_PER_SEC: "100000",
      SEND_BURST: "100000",
    });
    const h = harness;
    const { user, token } = await h.user("fan");
    const room = await h.room(user.id, 10);
    const destination = `/topic/rooms/${room.id}`;
    const sender = { id: user.id, username: user.username };

    // One MESSAGE as the hub builds it (5-digit seq, auto ack), to size the baseline's payload.
    const sample: ChatMessage = { ...newDraft(room.id, "message", sender, TEXT), seq: 12_345 };
    const frame = encodeMessage({
      destination,
      subscription: "sub-0",
      messageId: sample.id,
      body: JSON.stringify(sample),
      version: "1.2",
    });
    if (typeof frame !== "string") throw new Error("expected a text MESSAGE frame");
    const payloadBytes = Buffer.byteLength(frame);
    const payload = "x".repeat(payloadBytes);

    const oursClients = LineChild.spawn(CLIENTS, [h.url, String(SUBSCRIBERS), token, destination]);
    children.push(oursClients);
    const rawClients = LineChild.spawn(CLIENTS, [raw.url, String(SUBSCRIBERS)]);
    children.push(rawClients);
    await oursClients.next("ready");
    await rawClients.next("ready");
    await waitFor("1,000 live subscriptions", () => liveMembers(h, room.id).members === SUBSCRIBERS);
    await waitFor("1,000 raw subscribers", () => raw.server.subscriberCount("room") === SUBSCRIBERS);
    if (liveMembers(h, room.id).groups !== 1) throw new Error("expected one fan-out group for sub-0");

    let seq = 1_000_000;
    const variants: Record<string, { client: LineChild; round: () => void | Promise<void> }> = {
      baseline: {
        client: rawClients,
        round: () => {
          for (let i = 0; i < PER_ROUND; i++) raw.server.publish("room", payload);
        },
      },
      "hub.deliver": {
        client: oursClients,
        round: () => {
          for (let i = 0; i < PER_ROUND; i++) {
            h.node.hub.deliver({ ...newDraft(room.id, "message", sender, TEXT), seq: ++seq });
          }
        },
      },
      "bus.publish": {
        client: oursClients,
        round: async () => {
          const drafts = Array.from({ length: PER_ROUND }, () => newDraft(room.id, "message", sender, TEXT));
          await Promise.all(drafts.map((d) => h.backends.bus.publish(d)));
        },
      },
    };
    const names = Object.keys(variants);
    const results: Record<string, Trial[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (const n of names) await trial(variants[n]!.client, variants[n]!.round); // warm-up
    for (let t = 0; t < TRIALS; t++) {
      // Rotate the order so no variant always runs right after the same one.
      for (let i = 0; i < names.length; i++) {
        const n = names[(t + i) % names.length]!;
        results[n]!.push(await trial(variants[n]!.client, variants[n]!.round));
      }
    }

    for (const c of [oursClients, rawClients]) {
      c.send("stats");
      const closes = Number((await c.next("stats"))[2]);
      if (closes > 0) throw new Error(`${closes} client sockets were closed`);
    }
    return report(results, payloadBytes, h.node.endpoint.sessions.size);
  } finally {
    for (const c of children) await c.stop();
    raw.server.stop(true);
    await harness?.stop();
  }
}

function report(results: Record<string, Trial[]>, payloadBytes: number, sessions: number): string {
  const rates = (ts: Trial[]) => ts.map((t) => t.deliveries / (t.ms / 1000));
  const rate = (ts: Trial[]) => median(rates(ts));
  const spread = (ts: Trial[]) =>
    `${fmtInt(Math.min(...rates(ts)) / 1000)}k–${fmtInt(Math.max(...rates(ts)) / 1000)}k`;
  const cpu = (ts: Trial[]) => median(ts.map((t) => t.cpuPerK));
  const clientCpu = (ts: Trial[]) => median(ts.map((t) => t.clientCpuPerK));
  const avgFrame = (ts: Trial[]) => ts[0]!.bytes / ts[0]!.deliveries;
  const baseline = results.baseline!;
  const base = rate(baseline);
  // The full path is the headline when the fan-out is most of its server CPU (its extra work, the bus
  // append and the backlog writer, is per message, not per delivery); otherwise the fan-out proper.
  const fanoutShare = cpu(results["hub.deliver"]!) / cpu(results["bus.publish"]!);
  const fullPathHeadline = fanoutShare >= 0.5;
  const headline = fullPathHeadline ? "bus.publish" : "hub.deliver";
  const row = (name: string, what: string) => {
    const ts = results[name]!;
    return [
      what,
      fmtInt(rate(ts)),
      spread(ts),
      (rate(ts) / base).toFixed(2),
      cpu(ts).toFixed(3),
      (cpu(baseline) / cpu(ts)).toFixed(2),
      clientCpu(ts).toFixed(3),
      avgFrame(ts).toFixed(0),
    ].join(" | ");
  };
  return [
    "### Fan-out (1 room, 1,000 subscribers)",
    "",
    `${sessions} authenticated STOMP 1.2 sessions on one ws-node (embedded adapters), all subscribed to one room`,
    "as `sub-0` with ack auto, so each message is serialized once and published once through Bun's pub/sub.",
    `Baseline: a raw \`Bun.serve\` in the same process whose ${SUBSCRIBERS} WebSockets are subscribed to one topic,`,
    `publishing a ${payloadBytes} B string (the size of our MESSAGE frame) with \`server.publish\`; same send-buffer`,
    `limit (${BUFFER_LIMIT / 1024} KiB, close past it), no compression. The client sockets live in a child process that`,
    "counts WebSocket messages from frame headers (bench/support/ws-wire.ts); a trial is timed from the first",
    `publish until it has received ${ROUNDS} rounds × ${PER_ROUND} messages × ${SUBSCRIBERS} sockets, with at most`,
    `${WINDOW} rounds in flight. Median of ${TRIALS} alternating trials each; no socket was closed.`,
    "Server and client share the machine's cores with the kernel's loopback, so wall-clock throughput is",
    "partly bounded by the client and the trials vary (range: slowest–fastest); the server-CPU columns, the",
    "cost per delivery on the server side (this process: user + system), are the steadier comparison.",
    "",
    "| path | deliveries/s | range | vs baseline | server CPU µs/delivery | vs baseline (CPU) | client CPU µs/delivery | bytes/message |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${row("baseline", "baseline: raw `server.publish`")} |`,
    `| ${row("hub.deliver", "ours: `hub.deliver(stamped message)`, the fan-out proper")} |`,
    `| ${row("bus.publish", "ours: `bus.publish(draft)`, the full path (SQLite bus append, backlog writer, fan-out)")} |`,
    "",
    `**Ratio ours/baseline: ${(rate(results[headline]!) / base).toFixed(2)}** deliveries/s (target ≥ 0.6), on ${
      fullPathHeadline ? "the full path (`bus.publish`)" : "`hub.deliver` (the full path adds the bus append)"
    }; ${(cpu(baseline) / cpu(results[headline]!)).toFixed(2)} by server CPU per delivery.`,
    `The fan-out is ${(fanoutShare * 100).toFixed(0)}% of the full path's server CPU per delivery.`,
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await run());
