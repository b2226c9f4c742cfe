/**
 * What the history-scaling benchmark times on a running stage: (a) a member who missed 1,000
 * messages subscribing with x-since-seq until all of them and the next live one have arrived, and
 * (b) live latency in a room at a steady rate while some of its members reconnect over and over.
 */
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import type { HistoryStage } from "./history-stage.ts";

const dest = (roomId: string) => `/topic/rooms/${roomId}`;
const seqOf = (f: Frame) => Number(f.headers.seq);

/**
 * Sends `count` messages as fast as receipts come back, `window` at a time (under the frames that may wait on
 * one connection); resolves with their seqs.
 */
export async function sendBurst(
  sender: RawStomp,
  roomId: string,
  count: number,
  window = 50,
): Promise<number[]> {
  const seqs: number[] = [];
  for (let from = 0; from < count; from += window) {
    const n = Math.min(window, count - from);
    for (let i = 0; i < n; i++) {
      sender.sendFrame(
        "SEND",
        { destination: dest(roomId), receipt: `b${from + i}` },
        JSON.stringify({ text: `missed ${from + i}` }),
      );
    }
    for (let i = 0; i < n; i++) {
      const f = await sender.next((x) => x.command === "RECEIPT" || x.command === "ERROR", 30_000);
      if (f.command === "ERROR") throw new Error(`send refused: ${f.headers.message}`);
      seqs.push(Number(f.headers.seq));
    }
  }
  return seqs;
}

export interface ReplayTiming {
  /** From SUBSCRIBE to the last missed message, and to the first live one after them. */
  allMs: number;
  liveMs: number;
}

/**
 * One missed-messages replay: `sender` (connected, a member) sends 1,000 messages while `member` is
 * away; `waitStored` lets the caller wait until the backlog holds them; then the member subscribes
 * with x-since-seq at what it had, and the sender sends one live message at once. Checks that every
 * missed message came, once, in order, before the live one.
 */
export async function replayOnce(
  stage: HistoryStage,
  roomId: string,
  sender: RawStomp,
  memberToken: string,
  missed: number,
  waitStored: (lastSeq: number) => Promise<void>,
): Promise<ReplayTiming> {
  const seqs = await sendBurst(sender, roomId, missed);
  const since = Math.min(...seqs) - 1;
  const last = Math.max(...seqs);
  await waitStored(last);
  const member = await RawStomp.connect(stage.wsUrl, memberToken);
  try {
    const got: number[] = [];
    let allAt = 0;
    let liveAt = 0;
    let t0 = 0;
    member.onFrame = (f) => {
      if (f.command !== "MESSAGE") return;
      const text = JSON.parse(member.body(f)).text as string;
      if (text === "live marker") {
        liveAt = performance.now();
        return;
      }
      got.push(seqOf(f));
      if (got.length === missed) allAt = performance.now();
    };
    t0 = performance.now();
    member.sendFrame("SUBSCRIBE", {
      id: "s",
      destination: dest(roomId),
      "x-since-seq": String(since),
      receipt: "sub",
    });
    sender.sendFrame(
      "SEND",
      { destination: dest(roomId), receipt: "marker" },
      JSON.stringify({ text: "live marker" }),
    );
    const deadline = performance.now() + 60_000;
    while (liveAt === 0 && performance.now() < deadline && !member.isClosed) await Bun.sleep(2);
    await sender.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === "marker", 10_000);
    if (liveAt === 0)
      throw new Error(`replay: the live message never came (${got.length} of ${missed} missed)`);
    const expected = seqs.toSorted((a, b) => a - b);
    if (got.length !== missed || got.some((s, i) => s !== expected[i]) || allAt > liveAt) {
      throw new Error(`replay: got ${got.length} of ${missed} missed messages, or out of order`);
    }
    return { allMs: allAt - t0, liveMs: liveAt - t0 };
  } finally {
    member.close();
    await member.closed;
  }
}

export interface LiveResult {
  /** At every member, and at the member who stays connected. */
  latencies: number[];
  steady: number[];
  sent: number;
  /** SENDs the node answered with a RECEIPT; and with an ERROR, or never. */
  accepted: number;
  unanswered: number;
  /** Live messages the steady receiver had not got 15 s after the last was sent. */
  lostAtSteady: number;
  reconnects: number;
}

/** A member that drops its connection and comes back with x-since-seq at what it had. */
class Reconnecting {
  private client: RawStomp | undefined;
  private lastSeq = 0;
  reconnects = 0;
  constructor(
    private readonly stage: HistoryStage,
    private readonly roomId: string,
    private readonly token: string,
    private readonly onLive: (f: Frame, c: RawStomp) => void,
  ) {}

  async connect(): Promise<void> {
    const c = await RawStomp.connect(this.stage.wsUrl, this.token);
    c.onFrame = (f) => {
      if (f.command !== "MESSAGE") return;
      this.lastSeq = Math.max(this.lastSeq, seqOf(f));
      if (f.headers["x-replay"] !== "true") this.onLive(f, c);
    };
    const headers: Record<string, string> = { id: "s", destination: dest(this.roomId), receipt: "in" };
    if (this.lastSeq > 0) headers["x-since-seq"] = String(this.lastSeq);
    c.sendFrame("SUBSCRIBE", headers);
    this.client = c;
    await c.next((f) => f.command === "RECEIPT", 30_000);
  }

  async reconnect(): Promise<void> {
    this.close();
    this.reconnects++;
    await this.connect();
  }

  /** Drops frames kept by the client (the timing is taken in onFrame). */
  drain(): void {
    this.client?.frames.splice(0);
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}

/**
 * `ratePerSec` messages a second for `durationMs` into a fresh room with a steady receiver and
 * `reconnecting` members, each of whom reconnects every `everyMs` (spread evenly). Latency is
 * taken at every member for every message delivered live (not marked x-replay), from the send.
 */
export async function liveUnderReconnects(
  stage: HistoryStage,
  opts: { ratePerSec: number; durationMs: number; reconnecting: number; everyMs: number },
): Promise<LiveResult> {
  const sender = await stage.member("sender");
  const steady = await stage.member("steady");
  const others = await Promise.all(
    Array.from({ length: opts.reconnecting }, (_, i) => stage.member(`r${i}`)),
  );
  const room = await stage.room(sender.user, [steady.user, ...others.map((o) => o.user)]);
  const latencies: number[] = [];
  const steadyLatencies: number[] = [];
  const steadySeen = new Set<number>();
  const timing = (f: Frame, c: RawStomp, steady = false) => {
    const text = JSON.parse(c.body(f)).text as string;
    const at = Number(text.split(" ")[2]);
    if (!Number.isFinite(at)) return;
    latencies.push(performance.now() - at);
    if (steady) steadyLatencies.push(performance.now() - at);
  };
  const out = await RawStomp.connect(stage.wsUrl, sender.token);
  const steadyMember = new Reconnecting(stage, room.id, steady.token, (f, c) => {
    steadySeen.add(Number(JSON.parse(c.body(f)).text.split(" ")[1]));
    timing(f, c, true);
  });
  const members = others.map((o) => new Reconnecting(stage, room.id, o.token, timing));
  await steadyMember.connect();
  for (const m of members) await m.connect();

  let sent = 0;
  let accepted = 0;
  let running = true;
  const start = performance.now();
  const sending = (async () => {
    while (running) {
      out.sendFrame(
        "SEND",
        { destination: dest(room.id), receipt: `l${sent}` },
        JSON.stringify({ text: `live ${sent} ${performance.now()}` }),
      );
      sent++;
      const next = start + (sent * 1000) / opts.ratePerSec;
      await Bun.sleep(Math.max(0, next - performance.now()));
      accepted += out.take("RECEIPT").length;
      out.frames.splice(0);
      steadyMember.drain();
      for (const m of members) m.drain();
    }
  })();
  const cycling = members.map(async (m, i) => {
    await Bun.sleep((i * opts.everyMs) / members.length);
    while (performance.now() - start < opts.durationMs) {
      await m.reconnect();
      await Bun.sleep(Math.min(opts.everyMs, Math.max(0, start + opts.durationMs - performance.now())));
    }
  });
  await Bun.sleep(opts.durationMs);
  running = false;
  await sending;
  await Promise.all(cycling);
  // What is still in flight arrives within a moment; a message missing after that was lost.
  const deadline = performance.now() + 15_000;
  while ((steadySeen.size < sent || accepted < sent) && performance.now() < deadline) {
    await Bun.sleep(20);
    accepted += out.take("RECEIPT").length;
  }
  const reconnects = members.reduce((s, m) => s + m.reconnects, 0);
  for (const m of [steadyMember, ...members]) m.close();
  out.close();
  return {
    latencies,
    steady: steadyLatencies,
    sent,
    accepted,
    unanswered: sent - accepted,
    lostAtSteady: sent - steadySeen.size,
    reconnects,
  };
}
