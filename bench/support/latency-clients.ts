/**
 * Client process of the replicas benchmark: STOMP senders and receivers of several rooms in one
 * process, so a message's send time and its arrival time at another member are read on one clock.
 *
 *   bun bench/support/latency-clients.ts <planFile>
 *
 * The plan (JSON, `LatencyPlan`) lists each room's destination and the node URL and token of each
 * sender and receiver connection. Receivers subscribe (ack auto); senders only SEND, each with a
 * RECEIPT request. stdout: `ready <senders> <receivers>` once set up. stdin commands, one a line:
 *   `paced <msg/s> <ms>`       open loop: SENDs at a steady total rate, round-robin over the senders;
 *   `window <n> <ms>`          closed loop: every sender keeps n SENDs awaiting their RECEIPT;
 *   `exit`                     closes every socket and exits.
 * After a step's `ms` the process waits (at most DRAIN_MS) for the step's receipts and deliveries, then
 * prints `result <sent> <receipted> <receiptsInWindow> <deliveriesInWindow> <windowMs> <p50> <p99>
 * <max> <missing> <errors> <cpuMicros>` (latencies in ms; missing = deliveries of receipted messages
 * that never arrived; errors = ERROR frames and closed sockets).
 */
import { readLines } from "./ws-wire.ts";

export interface LatencyPlan {
  rooms: {
    destination: string;
    senders: { url: string; token: string }[];
    receivers: { url: string; token: string }[];
  }[];
}

/** The server handles a connection's frames one at a time and refuses more than 64 waiting. */
const MAX_OUTSTANDING = 48;
const DRAIN_MS = 10_000;
const TICK_MS = 2;

class Link {
  outstanding = 0;
  private waiter: ((frame: string) => void) | undefined;

  private constructor(
    private readonly ws: WebSocket,
    readonly destination: string,
    private readonly onFrame: (link: Link, frame: string) => void,
  ) {
    ws.onmessage = (e) => {
      for (const part of String(e.data).split("\0")) {
        // Heart-beats and end-of-lines between frames; the split's empty tail.
        const frame = part.replace(/^[\r\n]+/, "");
        if (frame === "") continue;
        const w = this.waiter;
        this.waiter = undefined;
        if (w) w(frame);
        else this.onFrame(this, frame);
      }
    };
    ws.onclose = () => {
      counters.errors++;
    };
  }

  static async open(
    url: string,
    token: string,
    destination: string,
    onFrame: (link: Link, frame: string) => void,
  ): Promise<Link> {
    const ws = new WebSocket(url, ["v12.stomp"]);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
    });
    const link = new Link(ws, destination, onFrame);
    const connected = await link.request(
      `CONNECT\naccept-version:1.2\nhost:chattalk\nheart-beat:0,0\nAuthorization:Bearer ${token}\n\n\0`,
    );
    if (!connected.startsWith("CONNECTED\n")) throw new Error(`CONNECT refused: ${connected.slice(0, 200)}`);
    return link;
  }

  /** Sends a setup frame and resolves with the next frame (setup runs before any load). */
  request(frame: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no reply within 15 s")), 15_000);
      this.waiter = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.ws.send(frame);
    });
  }

  send(id: number): void {
    this.outstanding++;
    this.ws.send(
      `SEND\ndestination:${this.destination}\ncontent-type:application/json\nreceipt:${id}\n\n{"text":"m ${id}"}\0`,
    );
  }

  close(): void {
    this.ws.onclose = null;
    this.ws.close();
  }
}

const counters = { errors: 0 };
/** Send time of message `id` (performance.now), for every id sent so far. */
const sentAt: number[] = [];
const step = {
  firstId: 0,
  endsAt: Number.POSITIVE_INFINITY,
  receipted: 0,
  receiptsInWindow: 0,
  deliveries: 0,
  deliveriesInWindow: 0,
  latencies: [] as number[],
};

function headerValue(frame: string, name: string): string | undefined {
  const at = frame.indexOf(`\n${name}:`);
  if (at < 0) return undefined;
  const from = at + name.length + 2;
  const end = frame.indexOf("\n", from);
  return frame.slice(from, end < 0 ? undefined : end);
}

function onFrame(link: Link, frame: string): void {
  const now = performance.now();
  if (frame.startsWith("MESSAGE\n")) {
    // The body is the ChatMessage JSON; our SEND's text is "m <id>".
    const at = frame.indexOf('"text":"m ');
    const id = at < 0 ? -1 : Number.parseInt(frame.slice(at + 10, at + 30), 10);
    if (!(id >= step.firstId) || sentAt[id] === undefined) return;
    step.deliveries++;
    if (now <= step.endsAt) step.deliveriesInWindow++;
    step.latencies.push(now - sentAt[id]!);
  } else if (frame.startsWith("RECEIPT\n")) {
    link.outstanding--;
    const id = Number(headerValue(frame, "receipt-id"));
    if (!(id >= step.firstId)) return;
    step.receipted++;
    if (now <= step.endsAt) step.receiptsInWindow++;
    afterReceipt?.(link, now);
  } else if (frame.startsWith("ERROR\n")) {
    counters.errors++;
    if (counters.errors <= 3)
      console.error(`latency-clients: ${frame.slice(0, 300).replaceAll("\n", " | ")}`);
  }
}

/** Set by the closed-loop step: refills a sender's window as its receipts come back. */
let afterReceipt: ((link: Link, now: number) => void) | undefined;

const plan = (await Bun.file(process.argv[2]!).json()) as LatencyPlan;
const senders: Link[] = [];
const links: Link[] = [];
let receivers = 0;
let receiversPerMessage = 0;
for (const room of plan.rooms) {
  receiversPerMessage = room.receivers.length;
  for (const r of room.receivers) {
    const link = await Link.open(r.url, r.token, room.destination, onFrame);
    const receipt = await link.request(
      `SUBSCRIBE\nid:sub-0\ndestination:${room.destination}\nack:auto\nreceipt:s\n\n\0`,
    );
    if (!receipt.startsWith("RECEIPT\n")) throw new Error(`SUBSCRIBE refused: ${receipt.slice(0, 200)}`);
    links.push(link);
    receivers++;
  }
  for (const s of room.senders) {
    const link = await Link.open(s.url, s.token, room.destination, onFrame);
    senders.push(link);
    links.push(link);
  }
}
if (plan.rooms.some((r) => r.receivers.length !== receiversPerMessage)) {
  throw new Error("every room needs the same number of receivers");
}
console.log(`ready ${senders.length} ${receivers}`);

let nextSender = 0;
function sendOn(link: Link, now: number): void {
  const id = sentAt.length;
  sentAt.push(now);
  link.send(id);
}

/** Sends one message on the next sender in turn with room in its window; false if all are full. */
function sendNext(): boolean {
  for (let tried = 0; tried < senders.length; tried++) {
    const link = senders[nextSender]!;
    nextSender = (nextSender + 1) % senders.length;
    if (link.outstanding >= MAX_OUTSTANDING) continue;
    sendOn(link, performance.now());
    return true;
  }
  return false;
}

async function runStep(kind: string, amount: number, ms: number): Promise<string> {
  Object.assign(step, {
    firstId: sentAt.length,
    receipted: 0,
    receiptsInWindow: 0,
    deliveries: 0,
    deliveriesInWindow: 0,
    latencies: [],
  });
  const cpu0 = process.cpuUsage();
  const startsAt = performance.now();
  step.endsAt = startsAt + ms;
  if (kind === "paced") {
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        const due = Math.floor((amount * (Math.min(now, step.endsAt) - startsAt)) / 1000);
        while (sentAt.length - step.firstId < due && sendNext()) {}
        if (now >= step.endsAt) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
  } else {
    afterReceipt = (link, now) => {
      if (now < step.endsAt && link.outstanding < amount) sendOn(link, performance.now());
    };
    for (const link of senders) for (let i = 0; i < amount; i++) sendOn(link, performance.now());
    await Bun.sleep(ms);
    afterReceipt = undefined;
  }
  const sent = sentAt.length - step.firstId;
  const drainUntil = performance.now() + DRAIN_MS;
  while (
    (step.receipted < sent || step.deliveries < step.receipted * receiversPerMessage) &&
    performance.now() < drainUntil &&
    counters.errors === 0
  ) {
    await Bun.sleep(20);
  }
  const cpu = process.cpuUsage(cpu0);
  const sorted = Float64Array.from(step.latencies).sort();
  const pick = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
  const missing = step.receipted * receiversPerMessage - step.deliveries;
  return [
    "result",
    sent,
    step.receipted,
    step.receiptsInWindow,
    step.deliveriesInWindow,
    ms,
    pick(0.5).toFixed(2),
    pick(0.99).toFixed(2),
    (sorted.at(-1) ?? 0).toFixed(2),
    Math.max(0, missing),
    counters.errors,
    cpu.user + cpu.system,
  ].join(" ");
}

await readLines(async (line) => {
  const [command, amount, ms] = line.split(" ");
  if (command === "paced" || command === "window")
    console.log(await runStep(command, Number(amount), Number(ms)));
  else if (command === "exit") {
    for (const link of links) link.close();
    process.exit(0);
  }
});
// stdin closed: the parent is gone, so are we.
process.exit(0);
