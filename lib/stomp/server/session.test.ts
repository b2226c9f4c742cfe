import { describe, expect, test } from "bun:test";
import { RecordingSocket } from "../../../testkit/recording-socket.ts";
import { silentLogger } from "../../log/index.ts";
import type { Principal, StompApp } from "./app.ts";
import { type HoldLimits, userLedger } from "./holdings.ts";
import { type SessionHost, type SessionOptions, StompSession } from "./session.ts";
import { newStats } from "./stats.ts";

const alice: Principal = { userId: "u1", username: "alice" };
const app: StompApp<string[]> = {
  newState: () => [],
  subscribe: async (session, sub) => {
    session.appState.push(sub.destination);
    return undefined;
  },
  unsubscribe: () => {},
  send: async () => undefined,
  checkSend: async () => {},
  ack: () => {},
  closed: () => {},
};

const bound = (count: number, bytes: number) => ({
  perConnection: { count, bytes },
  perUser: { count, bytes },
});
const holds: HoldLimits = {
  queued: bound(8, 1 << 20),
  transactions: bound(4, 1 << 20),
  subscriptions: bound(4, 1 << 20),
  pendingAcks: bound(10, 80),
};

function sessionOptions(
  verifyToken: SessionOptions["verifyToken"],
  sendRate: SessionOptions["limits"]["sendRate"],
): SessionOptions {
  return {
    serverName: "test/1",
    verifyToken,
    limits: {
      parser: { maxBufferedBytes: 4096, maxHeaders: 16, maxHeaderLineBytes: 1024, maxBodyBytes: 1024 },
      maxTransactions: 1,
      holds,
      sendRate,
    },
    heartbeat: { serverMs: 0, minClientMs: 0 },
    connectTimeoutMs: 1000,
    log: silentLogger,
  };
}

/** A session whose token must be "good" and that may SEND once a second. */
function open(admit: SessionHost["admit"] = () => userLedger(holds)) {
  const socket = new RecordingSocket();
  const host: SessionHost = { stats: newStats(), admit };
  const options = sessionOptions(
    async (token) => {
      if (token !== "good") throw new Error("the access token is not valid");
      return alice;
    },
    { perSec: 1, burst: 1 },
  );
  return { socket, host, session: new StompSession("s1", socket, host, app, options) };
}

const settle = () => Bun.sleep(5);

/**
 * A session of `stompApp` on `socket` with CONNECT sent: any token verifies (as `verifyToken` says),
 * and the SEND rate is far above what these tests send.
 */
function connected(
  id: string,
  stompApp: StompApp<string[]>,
  socket: RecordingSocket,
  verifyToken: SessionOptions["verifyToken"] = async () => alice,
): StompSession<string[]> {
  const host: SessionHost = { stats: newStats(), admit: () => userLedger(holds) };
  const options = sessionOptions(verifyToken, { perSec: 100, burst: 100 });
  const session = new StompSession(id, socket, host, stompApp, options);
  session.onBytes("CONNECT\naccept-version:1.2\npasscode:good\n\n\0");
  return session;
}

describe("StompSession, driven through its host interface alone", () => {
  test("authenticates CONNECT with the endpoint's verifyToken; the Bearer scheme is case-insensitive", async () => {
    const { socket, host, session } = open();
    session.onBytes("CONNECT\naccept-version:1.2\nauthorization:bearer good\n\n\0");
    await settle();
    expect(socket.frames.map((f) => f.command)).toEqual(["CONNECTED"]);
    expect(socket.frames[0]!.headers["user-name"]).toBe("alice");
    expect(session.principal).toEqual(alice);
    expect(session.admittedUser).toBe("u1");
    expect(host.stats.framesIn).toEqual({ CONNECT: 1 });
    expect(host.stats.framesOut).toEqual({ CONNECTED: 1 });
  });

  test("a RECEIPT leaves corked, so it shares one write with the sender's copy queued before it", async () => {
    const socket = new RecordingSocket();
    const session = connected("s1", app, socket);
    await settle();
    session.onBytes("SEND\ndestination:/topic/x\nreceipt:r1\n\nhi\0");
    await settle();
    expect(socket.frames.map((f) => f.command)).toEqual(["CONNECTED", "RECEIPT"]);
    expect(socket.corked).toEqual(["RECEIPT"]);
  });

  test("a token that does not verify is an ERROR and a close, and the user is never admitted", async () => {
    const admitted: string[] = [];
    const { socket, session } = open((userId) => {
      admitted.push(userId);
      return userLedger(holds);
    });
    session.onBytes("CONNECT\naccept-version:1.2\npasscode:bad\n\n\0");
    await settle();
    expect(socket.frames[0]!.command).toBe("ERROR");
    expect(socket.frames[0]!.headers.message).toBe("authentication failed");
    expect(socket.closedWith).toBe(1008);
    expect(admitted).toEqual([]);
    expect(session.admittedUser).toBeUndefined();
  });

  test("the app's typed state is made on first use and kept for the connection", async () => {
    const { session } = open();
    session.onBytes("CONNECT\naccept-version:1.2\npasscode:good\n\n\0SUBSCRIBE\nid:1\ndestination:/a\n\n\0");
    await settle();
    session.onBytes("SUBSCRIBE\nid:2\ndestination:/b\n\n\0");
    await settle();
    expect(session.appState).toEqual(["/a", "/b"]);
  });

  test("the SEND rate limit is counted for the host's metrics", async () => {
    const { socket, host, session } = open();
    session.onBytes(
      "CONNECT\naccept-version:1.2\npasscode:good\n\n\0SEND\ndestination:/a\n\n{}\0SEND\ndestination:/a\n\n{}\0",
    );
    await settle();
    expect(host.stats.rateLimited).toBe(1);
    expect(socket.frames.at(-1)!.headers.message).toStartWith("rate limited");
  });
});

describe("what a connection holds", () => {
  test("frames pipelined past a slow SEND are bounded: ERROR naming the bound", async () => {
    const stuck: StompApp<string[]> = { ...app, send: () => new Promise(() => {}) };
    const socket = new RecordingSocket();
    const session = connected("s2", stuck, socket);
    await settle();
    for (let i = 0; i < 8; i++) session.onBytes("SEND\ndestination:/a\n\n{}\0");
    await settle();
    expect(session.ledger.usage("queued").count).toBe(7); // one is being handled
    session.onBytes("SEND\ndestination:/a\n\n{}\0SEND\ndestination:/a\n\n{}\0");
    await settle();
    expect(socket.frames.at(-1)!.headers.message).toBe("limit exceeded: frames in flight");
    expect(socket.closedWith).toBe(1008);
    session.onClose();
    expect(session.ledger.usage("queued").count).toBe(0);
  });
});

describe("pipelined SENDs", () => {
  function pipelining(send: StompApp<string[]>["send"]) {
    const socket = new RecordingSocket(true);
    const piped: StompApp<string[]> = { ...app, send, pipelines: () => true };
    return { socket, session: connected("s3", piped, socket) };
  }
  const send = (n: number) => `SEND\ndestination:/a\nreceipt:r${n}\n\n{"n":${n}}\0`;

  test("start before the earlier ones finish, and are answered in order; other frames wait for them", async () => {
    const started: number[] = [];
    const finish = new Map<number, (v: undefined) => void>();
    const { socket, session } = pipelining((_s, frame) => {
      const n = JSON.parse(new TextDecoder().decode(frame.body)).n as number;
      started.push(n);
      return new Promise((done) => finish.set(n, done));
    });
    await settle();
    session.onBytes(`${send(1)}${send(2)}${send(3)}SUBSCRIBE\nid:s\ndestination:/a\nreceipt:sub\n\n\0`);
    await settle();
    expect(started).toEqual([1, 2, 3]); // all under way at once
    expect(session.ledger.usage("queued").count).toBe(4); // each holds its place until answered
    finish.get(3)!(undefined);
    finish.get(2)!(undefined);
    await settle();
    expect(socket.frames.map((f) => f.command)).toEqual(["CONNECTED"]); // r2, r3 wait for r1
    finish.get(1)!(undefined);
    await settle();
    expect(socket.frames.slice(1).map((f) => f.headers["receipt-id"])).toEqual(["r1", "r2", "r3", "sub"]);
    expect(session.ledger.usage("queued").count).toBe(0);
  });

  test("nothing is answered after the ERROR of a failed one", async () => {
    const { socket, session } = pipelining(async (_s, frame) => {
      const n = JSON.parse(new TextDecoder().decode(frame.body)).n as number;
      await Bun.sleep(n === 1 ? 5 : 0);
      if (n === 2) throw new Error("boom");
      return undefined;
    });
    await settle();
    session.onBytes(`${send(1)}${send(2)}${send(3)}`);
    await Bun.sleep(20);
    const answers = socket.frames.slice(1).map((f) => `${f.command} ${f.headers["receipt-id"]}`);
    expect(answers).toEqual(["RECEIPT r1", "ERROR r2"]);
    expect(socket.closedWith).toBe(1011);
  });
});

describe("sessions end with their token", () => {
  test("at the token's expiry: ERROR token_expired (x-error-code) and close 4001", async () => {
    const socket = new RecordingSocket();
    const session = connected("s3", app, socket, async () => ({ ...alice, expiresAt: Date.now() + 50 }));
    await settle();
    session.tick(performance.now());
    expect(session.state).toBe("connected");
    await Bun.sleep(60);
    session.tick(performance.now());
    const error = socket.frames.at(-1)!;
    expect(error.command).toBe("ERROR");
    expect(error.headers.message).toBe("token expired");
    expect(error.headers["x-error-code"]).toBe("token_expired");
    expect(socket.closedWith).toBe(4001);
  });
});
