/**
 * Client process of the peers benchmark: opens the connections of a plan (bench/peers/plan.ts) in the
 * plan's protocol, then runs workloads on command, all on one clock.
 *
 *   bun bench/peers/clients.ts <planFile> [--from <i>] [--count <n>] [--local <address>] [--parallel <n>]
 *
 * --from/--count open only part of the plan's connections (several client processes share a plan);
 * --local binds them to a loopback source address (its own range of ephemeral ports); --parallel
 * caps the set-ups in flight (default 64).
 * stdout: `ready <connections> <ms> <retries>` once every connection is set up (a failed set-up is
 * tried up to three times). stdin commands, one a line:
 *   fanout <ms> <window>  the senders publish for <ms>, keeping at most <window> messages not yet
 *                         delivered to every subscriber; then waits for the rest. Prints
 *                         `fanout <sent> <acked> <delivered> <expected> <ms> <bytes> <cpuµs> <errors>`
 *                         (ms: first publish to last delivery; bytes: WebSocket payload received).
 *   chat <rate> <ms>      open loop: <rate> publishes/s over all rooms (round-robin, from a random
 *                         member) for <ms>, then waits for the deliveries. Prints `chat <sent> <acked>
 *                         <expected> <received> <duplicates> <p50> <p99> <max> <errors> <cpuµs>
 *                         <ackedInWindow>`: latency in ms from publish to each member's receipt, the
 *                         sender included; ackedInWindow: acknowledgements that came within <ms>.
 *   flood <n> <ms>        closed loop: every room member keeps <n> publishes awaiting their
 *                         acknowledgement, for <ms>; prints like chat (as `flood …`).
 *   stats                 prints `stats <closes> <errors> <heart-beats received> <cpuµs>`;
 *   exit                  closes every socket and exits.
 * With the plan's heartbeatMs set, every connection sends a STOMP heart-beat at that interval (spread
 * evenly over time) and counts those it receives.
 */
import { LatencyDump } from "../support/latency-dump.ts";
import { openAll, readLines, WireSocket, wireTotals, wireWatch } from "../support/ws-wire.ts";
import type { Plan } from "./plan.ts";
import { type ConnSpec, MARKER, messageText, type Protocol, protocols, type SetupStep } from "./protocols.ts";

const args = process.argv.slice(2);
const planFile = args[0];
if (!planFile) {
  console.error("usage: clients.ts <planFile> [--from <i>] [--count <n>] [--local <address>]");
  process.exit(2);
}
const option = (name: string) => {
  const at = args.indexOf(`--${name}`);
  return at > 0 ? args[at + 1] : undefined;
};
const plan = (await Bun.file(planFile).json()) as Plan;
const proto: Protocol = protocols[plan.protocol];
const from = Number(option("from") ?? 0);
const count = Number(option("count") ?? plan.conns.length - from);
const localAddress = option("local");
const parallel = Number(option("parallel") ?? 64);

/** Publishes a connection may have awaiting their acknowledgement (ChatTalk refuses past 64 queued frames). */
const MAX_OUTSTANDING = 48;
const DRAIN_MS = 15_000;
const SETUP_TIMEOUT_MS = 60_000;
const marker = Buffer.from(MARKER);
const counters = { errors: 0, heartbeats: 0 };

type Mode = "idle" | "fanout" | "chat";
let mode: Mode = "idle";

class Conn {
  ws: WireSocket | undefined;
  outstanding = 0;
  private steps: SetupStep[] = [];
  private step = 0;
  private setupDone: ((err?: Error) => void) | undefined;

  constructor(readonly spec: ConnSpec) {}

  /** Connects and runs the protocol's set-up; on failure the socket is closed (a retry starts afresh). */
  async open(url: URL): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.setupDone?.(new Error("set-up timed out")), SETUP_TIMEOUT_MS);
      this.setupDone = (err) => {
        clearTimeout(timer);
        this.setupDone = undefined;
        if (err) reject(err);
        else resolve();
      };
    });
    // A set-up that fails before the socket exists still settles `done`: never leave it unhandled.
    done.catch(() => undefined);
    this.steps = proto.setup(this.spec, plan.heartbeatMs);
    this.step = 0;
    try {
      this.ws = await WireSocket.connect({
        host: url.hostname,
        port: Number(url.port),
        path: proto.path,
        protocol: proto.subprotocol,
        localAddress,
        onData: (buf, start, end) => this.onData(buf, start, end),
      });
      this.advance();
      await done;
    } catch (err) {
      this.setupDone?.(err as Error);
      await this.ws?.close();
      this.ws = undefined;
      throw err;
    }
  }

  send(text: string): void {
    this.ws!.send(text);
  }

  /** Sends the next set-up step's frame; finishes set-up after the last. */
  private advance(): void {
    const next = this.steps[this.step];
    if (!next) this.setupDone?.();
    else if (next.send !== undefined) this.send(next.send);
  }

  private onData(buf: Buffer, start: number, end: number): void {
    if (this.setupDone) {
      this.onSetup(buf.toString("utf8", start, end));
      return;
    }
    if (end - start === 1 && buf[start] === 0x0a) {
      counters.heartbeats++;
      return;
    }
    let text: string | undefined;
    if (mode === "fanout") {
      let n = 0;
      for (let at = buf.indexOf(marker, start); at >= 0 && at < end; at = buf.indexOf(marker, at + 1)) n++;
      if (n > 0) fan?.delivered(n);
    } else if (mode === "chat") {
      text = buf.toString("utf8", start, end);
      chat?.received(text);
    }
    if (!proto.mayNeedAttention(buf, start, end)) return;
    text ??= buf.toString("utf8", start, end);
    for (const unit of proto.units(text)) {
      const reply = proto.keepalive(unit);
      if (reply !== undefined) {
        this.send(reply);
        continue;
      }
      const id = proto.ack(unit);
      if (id === undefined) continue;
      this.outstanding--;
      if (id < 0) {
        counters.errors++;
        console.error(`clients: refused: ${unit.slice(0, 200)}`);
      } else {
        acked++;
        afterAck?.(this);
      }
    }
  }

  private onSetup(payload: string): void {
    for (const unit of proto.units(payload)) {
      const reply = proto.keepalive(unit);
      if (reply !== undefined) {
        this.send(reply);
        continue;
      }
      const verdict = this.steps[this.step]!.check(unit);
      if (verdict === "skip") continue;
      if (verdict !== "ok") {
        this.setupDone?.(new Error(`set-up refused: ${verdict}`));
        return;
      }
      this.step++;
      this.advance();
      if (!this.setupDone) return;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let acked = 0;
let nextId = 1;
/** Called after each acknowledged publish (closed-loop steps publish the next one from there). */
let afterAck: ((conn: Conn) => void) | undefined;

/** One fan-out trial: publishes from the senders, bounded by what every subscriber has received. */
class FanoutTrial {
  sent = 0;
  private got = 0;
  private firstSend = 0;
  private lastDelivery = 0;
  private readonly stopAt: number;
  private readonly subscribers: number;
  private turn = 0;
  private readonly acked0 = acked;
  private done: (() => void) | undefined;
  readonly finished: Promise<void>;

  constructor(
    ms: number,
    private readonly window: number,
    private readonly channel: string,
    private readonly senders: Conn[],
    subscribers: number,
  ) {
    this.subscribers = subscribers;
    this.stopAt = performance.now() + ms;
    this.finished = new Promise((resolve) => {
      this.done = resolve;
    });
  }

  delivered(n: number): void {
    this.got += n;
    this.lastDelivery = performance.now();
  }

  /** Sends what the window allows; called after every TCP chunk and on a timer. */
  pump(): void {
    const now = performance.now();
    if (now < this.stopAt) {
      while (this.sent - this.got / this.subscribers < this.window) {
        const sender = this.pickSender();
        if (!sender) break;
        if (this.sent === 0) this.firstSend = now;
        const id = nextId++;
        sender.outstanding++;
        sender.send(proto.publish(this.channel, id, messageText(id)));
        this.sent++;
      }
    } else if (this.got >= this.sent * this.subscribers && acked - this.acked0 >= this.sent) {
      this.done?.();
    }
  }

  private pickSender(): Conn | undefined {
    for (let i = 0; i < this.senders.length; i++) {
      const s = this.senders[(this.turn + i) % this.senders.length]!;
      if (s.outstanding < MAX_OUTSTANDING) {
        this.turn = (this.turn + i + 1) % this.senders.length;
        return s;
      }
    }
    return undefined;
  }

  result(bytes: number, cpu: number): string {
    const expected = this.sent * this.subscribers;
    return [
      "fanout",
      this.sent,
      acked - this.acked0,
      this.got,
      expected,
      (this.lastDelivery - this.firstSend).toFixed(1),
      bytes,
      cpu,
      counters.errors + wireTotals.closes,
    ].join(" ");
  }
}

/** One chat step: paced publishes, every delivery's latency, every member's copy accounted for. */
class ChatStep {
  sent = 0;
  private readonly firstId = nextId;
  private readonly sentAt: number[] = [];
  private readonly copies: number[] = [];
  private readonly members: number[] = [];
  private readonly latencies: number[] = [];
  private receivedCount = 0;
  private duplicates = 0;
  private expectedCount = 0;
  private readonly dump = LatencyDump.enabled() ? new LatencyDump() : undefined;

  received(text: string): void {
    const now = performance.now();
    for (let at = text.indexOf(MARKER); at >= 0; at = text.indexOf(MARKER, at + MARKER.length)) {
      const i = Number.parseInt(text.slice(at + MARKER.length, at + MARKER.length + 12), 10) - this.firstId;
      if (!(i >= 0 && i < this.sent)) continue;
      this.copies[i]!++;
      if (this.copies[i]! > this.members[i]!) {
        this.duplicates++;
        continue;
      }
      this.receivedCount++;
      this.latencies.push(now - this.sentAt[i]!);
      this.dump?.add(this.sentAt[i]!, now - this.sentAt[i]!, i);
    }
  }

  publish(room: Plan["rooms"][number], sender: Conn): void {
    const id = nextId++;
    this.sentAt.push(performance.now());
    this.copies.push(0);
    this.members.push(room.members.length);
    this.expectedCount += room.members.length;
    this.sent++;
    sender.outstanding++;
    sender.send(proto.publish(room.channel, id, messageText(id)));
  }

  complete(): boolean {
    return this.receivedCount >= this.expectedCount;
  }

  result(ackedInStep: number, cpu: number): string {
    this.dump?.endStep();
    const sorted = Float64Array.from(this.latencies).sort();
    const pick = (q: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
    return [
      this.sent,
      ackedInStep,
      this.expectedCount,
      this.receivedCount,
      this.duplicates,
      pick(0.5).toFixed(3),
      pick(0.99).toFixed(3),
      (sorted.at(-1) ?? 0).toFixed(3),
      counters.errors + wireTotals.closes,
      cpu,
    ].join(" ");
  }
}

let fan: FanoutTrial | undefined;
let chat: ChatStep | undefined;

const urls = plan.urls.map((u) => new URL(u));
const conns = plan.conns.map((spec) => new Conn(spec));
/** Set-up connections, in the order they became ready. */
const ready: Conn[] = [];

// Heart-beats out from the moment a connection is set up, each connection once per interval,
// round-robin. Paced by the clock, not by ticks: a busy process whose timer fires late catches up.
if (plan.heartbeatMs) {
  const every = plan.heartbeatMs;
  let last = performance.now();
  let owed = 0;
  let next = 0;
  setInterval(() => {
    const now = performance.now();
    owed += ((now - last) / every) * ready.length;
    last = now;
    for (; owed >= 1 && ready.length > 0; owed--) {
      next %= ready.length;
      ready[next++]!.send("\n");
    }
  }, 50);
}

const t0 = performance.now();
/** Set-ups that failed (refused upgrade, closed socket, timeout) and were tried again. */
let retries = 0;
await openAll(count, parallel, async (k) => {
  const i = from + k;
  const conn = conns[i]!;
  for (let attempt = 1; ; attempt++) {
    try {
      await conn.open(urls[conn.spec.url ?? i % urls.length]!);
      break;
    } catch (err) {
      // A server may refuse one under a connect storm; a refusal of the credentials fails every time.
      if (attempt >= 3) throw err;
      retries++;
      await sleep(500 * attempt);
    }
  }
  ready.push(conn);
});
// Set-up traffic and the sockets of retried set-ups are not what the workloads measure.
wireTotals.messages = 0;
wireTotals.bytes = 0;
wireTotals.closes = 0;
console.log(`ready ${count} ${(performance.now() - t0).toFixed(0)} ${retries}`);

const cpuMicros = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return c.user + c.system;
};

async function runFanout(ms: number, window: number): Promise<string> {
  const room = plan.rooms[0]!;
  const senders = plan.senders.map((i) => conns[i]!);
  const trial = new FanoutTrial(ms, window, room.channel, senders, room.members.length);
  const bytes0 = wireTotals.bytes;
  const cpu0 = process.cpuUsage();
  fan = trial;
  mode = "fanout";
  wireWatch.afterChunk = () => trial.pump();
  const timer = setInterval(() => trial.pump(), 2);
  const deadline = sleep(ms + DRAIN_MS);
  trial.pump();
  await Promise.race([trial.finished, deadline]);
  clearInterval(timer);
  wireWatch.afterChunk = undefined;
  mode = "idle";
  fan = undefined;
  return trial.result(wireTotals.bytes - bytes0, cpuMicros(cpu0));
}

/** The room each connection publishes to in chat steps (its place in the plan's rooms). */
const roomOf = new Map<Conn, Plan["rooms"][number]>();
for (const room of plan.rooms) for (const m of room.members) roomOf.set(conns[m]!, room);

/** Waits (bounded) for a step's copies and acknowledgements, then prints its result line. */
async function finishStep(
  word: string,
  step: ChatStep,
  acked0: number,
  ackedInWindow: number,
  cpu0: NodeJS.CpuUsage,
) {
  const drainUntil = performance.now() + DRAIN_MS;
  while ((!step.complete() || acked - acked0 < step.sent) && performance.now() < drainUntil) {
    if (counters.errors + wireTotals.closes > 0) break;
    await sleep(10);
  }
  mode = "idle";
  chat = undefined;
  return `${word} ${step.result(acked - acked0, cpuMicros(cpu0))} ${ackedInWindow}`;
}

async function runChat(rate: number, ms: number): Promise<string> {
  const step = new ChatStep();
  const acked0 = acked;
  const cpu0 = process.cpuUsage();
  chat = step;
  mode = "chat";
  const start = performance.now();
  let turn = 0;
  let skipped = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, start + ms) - start) * rate) / 1000) - step.sent - skipped;
      for (let k = 0; k < due; k++) {
        const room = plan.rooms[turn++ % plan.rooms.length]!;
        const member = room.members[Math.floor(Math.random() * room.members.length)]!;
        const sender = conns[member]!;
        if (sender.outstanding >= MAX_OUTSTANDING) skipped++;
        else step.publish(room, sender);
      }
      if (now >= start + ms) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  if (skipped > 0)
    console.error(`clients: ${skipped} publishes skipped: a sender had ${MAX_OUTSTANDING} waiting`);
  return finishStep("chat", step, acked0, acked - acked0, cpu0);
}

async function runFlood(perConn: number, ms: number): Promise<string> {
  const step = new ChatStep();
  const acked0 = acked;
  const cpu0 = process.cpuUsage();
  chat = step;
  mode = "chat";
  const stopAt = performance.now() + ms;
  afterAck = (conn) => {
    const room = roomOf.get(conn);
    if (room && performance.now() < stopAt) step.publish(room, conn);
  };
  for (const [conn, room] of roomOf) for (let k = 0; k < perConn; k++) step.publish(room, conn);
  await sleep(ms);
  afterAck = undefined;
  return finishStep("flood", step, acked0, acked - acked0, cpu0);
}

await readLines(async (line) => {
  const [command, a, b] = line.split(" ");
  if (command === "fanout") console.log(await runFanout(Number(a), Number(b)));
  else if (command === "chat") console.log(await runChat(Number(a), Number(b)));
  else if (command === "flood") console.log(await runFlood(Number(a), Number(b)));
  else if (command === "stats") {
    const cpu = process.cpuUsage();
    console.log(
      `stats ${wireTotals.closes} ${counters.errors} ${counters.heartbeats} ${cpu.user + cpu.system}`,
    );
  } else if (command === "exit") {
    await Promise.all(conns.slice(from, from + count).map((c) => c.ws?.close()));
    process.exit(0);
  }
});
process.exit(0);
