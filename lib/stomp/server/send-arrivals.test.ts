import { describe, expect, test } from "bun:test";
import { RecordingSocket } from "../../../testkit/recording-socket.ts";
import { silentLogger } from "../../log/index.ts";
import type { StompApp } from "./app.ts";
import { type HoldLimits, userLedger } from "./holdings.ts";
import { type SessionHost, type SessionOptions, StompSession } from "./session.ts";
import { newStats } from "./stats.ts";

/** An app whose SENDs wait until the test lets the bus answer: a stalled bus. */
function stalledApp() {
  let release!: () => void;
  let stalled = new Promise<void>((resolve) => {
    release = resolve;
  });
  const app: StompApp<null> = {
    newState: () => null,
    subscribe: async () => undefined,
    unsubscribe: () => {},
    send: async () => {
      await stalled;
      return { seq: "1" };
    },
    checkSend: async () => {},
    ack: () => {},
    closed: () => {},
  };
  return {
    app,
    resume() {
      release();
      stalled = Promise.resolve();
    },
  };
}

function open(app: StompApp<null>, sendRate: { perSec: number; burst: number }, maxQueuedFrames = 8) {
  const socket = new RecordingSocket();
  const bound = (count: number, bytes: number) => ({
    perConnection: { count, bytes },
    perUser: { count, bytes },
  });
  const holds: HoldLimits = {
    queued: bound(maxQueuedFrames, 1 << 20),
    transactions: bound(4, 1 << 16),
    subscriptions: bound(4, 1 << 16),
    pendingAcks: bound(100, 1 << 16),
  };
  const host: SessionHost = { stats: newStats(), admit: () => userLedger(holds) };
  const options: SessionOptions = {
    serverName: "test/1",
    verifyToken: async () => ({ userId: "u1", username: "alice" }),
    limits: {
      parser: { maxBufferedBytes: 1 << 16, maxHeaders: 16, maxHeaderLineBytes: 1024, maxBodyBytes: 1024 },
      maxTransactions: 1,
      holds,
      sendRate,
    },
    heartbeat: { serverMs: 0, minClientMs: 0 },
    connectTimeoutMs: 1000,
    log: silentLogger,
  };
  const session = new StompSession("s1", socket, host, app, options);
  return { socket, host, session };
}

const settle = () => Bun.sleep(5);
const sendFrame = (i: number) => `SEND\ndestination:/a\nreceipt:r${i}\n\n{}\0`;
const connect = (notices: boolean) =>
  `CONNECT\naccept-version:1.2\npasscode:t\n\n\0${notices ? "SUBSCRIBE\nid:e\ndestination:/user/queue/errors\n\n\0" : ""}`;
/** Every answer to a SEND: receipt-id → what it was (RECEIPT, or the notice's code and outcome). */
function answers(socket: RecordingSocket): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of socket.frames) {
    const id = f.headers["receipt-id"];
    if (!id) continue;
    const what =
      f.command === "MESSAGE"
        ? (() => {
            const n = JSON.parse(new TextDecoder().decode(f.body));
            return `${n.code}/${n.outcome}`;
          })()
        : f.command;
    out.set(id, [...(out.get(id) ?? []), what]);
  }
  return out;
}

describe("SENDs as they arrive", () => {
  test("the rate limit is charged on arrival: refusals come at once, not after a stalled bus", async () => {
    const bus = stalledApp();
    const { socket, session } = open(bus.app, { perSec: 0.001, burst: 2 });
    session.onBytes(connect(true));
    await settle();
    session.onBytes([0, 1, 2, 3].map(sendFrame).join(""));
    await settle();
    // The bus has answered nothing yet, and the two over the limit are already refused.
    expect(Object.fromEntries(answers(socket))).toEqual({
      r2: ["rate_limited/not_written"],
      r3: ["rate_limited/not_written"],
    });
    bus.resume();
    await settle();
    expect(Object.fromEntries(answers(socket))).toEqual({
      r0: ["RECEIPT"],
      r1: ["RECEIPT"],
      r2: ["rate_limited/not_written"],
      r3: ["rate_limited/not_written"],
    });
    expect(socket.closedWith).toBeUndefined();
  });

  test("a sender within the limit is not refused for the time its SENDs waited on a stalled bus", async () => {
    const bus = stalledApp();
    const { socket, session } = open(bus.app, { perSec: 20, burst: 2 }, 64);
    session.onBytes(connect(true));
    await settle();
    // Ten SENDs at 10/s against a 20/s limit, while the bus answers none of them.
    for (let i = 0; i < 10; i++) {
      session.onBytes(sendFrame(i));
      await Bun.sleep(100);
    }
    bus.resume();
    await settle();
    const got = answers(socket);
    expect([...got.values()].flat()).toEqual(Array(10).fill("RECEIPT"));
  });

  test("past the frames that may wait, each further SEND is refused alone (not written); the connection stays", async () => {
    const bus = stalledApp();
    const { socket, session } = open(bus.app, { perSec: 1000, burst: 1000 }, 8);
    session.onBytes(connect(true));
    await settle();
    session.onBytes(Array.from({ length: 20 }, (_, i) => sendFrame(i)).join(""));
    await settle();
    bus.resume();
    await settle();
    const got = answers(socket);
    // Every SEND got exactly one answer: the 8 that could wait were stored, the rest refused.
    expect(got.size).toBe(20);
    expect([...got.values()].every((a) => a.length === 1)).toBe(true);
    const receipts = [...got].filter(([, a]) => a[0] === "RECEIPT").map(([id]) => id);
    expect(receipts).toEqual(Array.from({ length: 8 }, (_, i) => `r${i}`));
    expect([...got].filter(([, a]) => a[0] === "unavailable/not_written")).toHaveLength(12);
    expect(socket.closedWith).toBeUndefined();
  });

  test("a client not listening for notices: a rate-limited SEND is refused in its turn, after earlier answers", async () => {
    const bus = stalledApp();
    const { socket, session } = open(bus.app, { perSec: 0.001, burst: 1 });
    session.onBytes(connect(false));
    await settle();
    session.onBytes([0, 1].map(sendFrame).join(""));
    await settle();
    expect(socket.frames.map((f) => f.command)).toEqual(["CONNECTED"]);
    bus.resume();
    await settle();
    expect(socket.frames.map((f) => f.command)).toEqual(["CONNECTED", "RECEIPT", "ERROR"]);
    const error = socket.frames[2]!;
    expect(error.headers).toMatchObject({ "receipt-id": "r1", outcome: "not_written" });
    expect(error.headers.message).toStartWith("rate limited");
  });
});
