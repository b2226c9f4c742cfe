import { expect, test } from "bun:test";
import fc from "fast-check";
import { RecordingSocket } from "../../../testkit/recording-socket.ts";
import { silentLogger } from "../../log/index.ts";
import type { StompApp } from "./app.ts";
import { RefusedError, StompError } from "./errors.ts";
import { type HeldKind, type HoldLimits, userLedger } from "./holdings.ts";
import { type SessionHost, StompSession } from "./session.ts";
import { newStats } from "./stats.ts";

/**
 * Subscribes to /a and /b; SEND to /forbidden is refused; ACK ids are "ok" only. Some steps are async.
 * SENDs are pipelined but to /c, and a SEND to /b takes longer than the others, so pipelined SENDs
 * finish out of order.
 */
const app: StompApp<Set<string>> = {
  newState: () => new Set(),
  async subscribe(session, sub) {
    await Promise.resolve();
    if (sub.destination !== "/a" && sub.destination !== "/b") throw new StompError("unknown destination");
    session.appState.add(sub.id);
    return undefined;
  },
  unsubscribe(session, sub) {
    session.appState.delete(sub.id);
  },
  async send(_session, frame) {
    await Bun.sleep(frame.headers.destination === "/b" ? 1 : 0);
    if (frame.headers.destination === "/forbidden") throw new RefusedError("forbidden", "not a member");
    return undefined;
  },
  async checkSend(_session, frame) {
    if (frame.headers.destination === "/forbidden") throw new RefusedError("forbidden", "not a member");
  },
  pipelines: (_session, frame) => frame.headers.destination !== "/c",
  ack(_session, id) {
    if (id !== "ok") throw new StompError("invalid ack id");
  },
  closed(session) {
    session.appState.clear();
  },
};

const bound = (count: number, bytes: number) => ({
  perConnection: { count, bytes },
  perUser: { count, bytes },
});
const holds: HoldLimits = {
  queued: bound(16, 64 * 1024),
  transactions: bound(6, 4096),
  subscriptions: bound(3, 4096),
  pendingAcks: bound(10, 80),
};

const COMMANDS = [
  "SEND",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "ACK",
  "NACK",
  "BEGIN",
  "COMMIT",
  "ABORT",
  "DISCONNECT",
];
const frameArb = fc.record({
  command: fc.oneof(fc.constantFrom(...COMMANDS), fc.constantFrom("CONNECT", "BOGUS", "send")),
  destination: fc.option(fc.constantFrom("/a", "/b", "/c", "/forbidden", "/user/queue/errors"), {
    nil: undefined,
  }),
  id: fc.option(fc.constantFrom("s1", "s2", "s3", "ok", "nope"), { nil: undefined }),
  transaction: fc.option(fc.constantFrom("t1", "t2"), { nil: undefined }),
  ack: fc.option(fc.constantFrom("auto", "client", "bad"), { nil: undefined }),
  receipt: fc.boolean(),
  body: fc.string({ maxLength: 200 }),
});
type Gen = typeof frameArb extends fc.Arbitrary<infer T> ? T : never;

/** The wire text of a generated frame; a receipt header gets a unique id. */
function wire(g: Gen, n: number): { text: string; receipt?: string } {
  const headers: string[] = [];
  if (g.destination) headers.push(`destination:${g.destination}`);
  if (g.id) headers.push(`id:${g.id}`);
  if (g.transaction) headers.push(`transaction:${g.transaction}`);
  if (g.ack) headers.push(`ack:${g.ack}`);
  const receipt = g.receipt ? `r${n}` : undefined;
  if (receipt) headers.push(`receipt:${receipt}`);
  const body = g.command === "SEND" ? JSON.stringify({ text: g.body }) : "";
  return { text: `${g.command}\n${headers.join("\n")}${headers.length ? "\n" : ""}\n${body}\0`, receipt };
}

const KINDS: HeldKind[] = ["queued", "transactions", "subscriptions", "pendingAcks"];

test("random frame sequences: no throw, no hang, every receipt answered, state and ledger agree", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(frameArb, { maxLength: 40 }),
      fc.integer({ min: 1, max: 6 }),
      async (frames, chunking) => {
        const socket = new RecordingSocket(true);
        const user = userLedger(holds);
        const host: SessionHost = { stats: newStats(), admit: () => user };
        const session = new StompSession("p", socket, host, app, {
          serverName: "prop/1",
          verifyToken: async () => ({ userId: "u", username: "u" }),
          limits: {
            parser: { maxBufferedBytes: 8192, maxHeaders: 16, maxHeaderLineBytes: 1024, maxBodyBytes: 4096 },
            maxTransactions: 2,
            holds,
            sendRate: { perSec: 1000, burst: 8 },
          },
          heartbeat: { serverMs: 0, minClientMs: 0 },
          connectTimeoutMs: 10_000,
          log: silentLogger,
        });
        session.onBytes("CONNECT\naccept-version:1.2\npasscode:x\n\n\0");
        const sent = frames.map((g, i) => wire(g, i));
        // Several frames per WebSocket message, as pipelining clients send them.
        for (let i = 0; i < sent.length; i += chunking) {
          session.onBytes(
            sent
              .slice(i, i + chunking)
              .map((s) => s.text)
              .join(""),
          );
          if (i % 3 === 0) await Bun.sleep(0);
        }
        // Settles: nothing left queued (a hang would leave frames waiting).
        const deadline = performance.now() + 2_000;
        while (session.ledger.usage("queued").count > 0 && socket.closedWith === undefined) {
          if (performance.now() > deadline) throw new Error("the session did not settle");
          await Bun.sleep(1);
        }
        await Bun.sleep(2);

        const answered = new Set<string>();
        for (const f of socket.frames) {
          const r = f.headers["receipt-id"];
          if (r !== undefined) answered.add(r);
        }
        // Answered in the order asked, pipelined SENDs included.
        const order = socket.frames.flatMap((f) => {
          const r = f.headers["receipt-id"];
          return r === undefined ? [] : [Number(r.slice(1))];
        });
        expect(order).toEqual([...order].sort((a, b) => a - b));
        const errorAt = socket.frames.findIndex((f) => f.command === "ERROR");
        if (socket.closedWith === undefined) {
          // Still open: every receipt was answered.
          for (const s of sent) if (s.receipt) expect(answered.has(s.receipt)).toBe(true);
          expect(errorAt).toBe(-1);
          // What it holds is what its state says.
          expect(session.ledger.usage("subscriptions").count).toBe(session.subscriptions.size);
          expect(user.usage("subscriptions").count).toBe(session.subscriptions.size);
        } else {
          // Never a silent close: the client asked (DISCONNECT, close 1000), or an ERROR came last.
          const last = socket.frames.at(-1);
          if (socket.closedWith === 1000) {
            expect(frames.some((g) => g.command === "DISCONNECT")).toBe(true);
            expect(last?.command).not.toBe("ERROR");
          } else {
            expect(last?.command).toBe("ERROR");
          }
          // Nothing after the ERROR.
          if (errorAt >= 0) expect(errorAt).toBe(socket.frames.length - 1);
        }
        for (const k of KINDS) expect(session.ledger.usage(k).count).toBeGreaterThanOrEqual(0);
        session.onClose();
        for (const k of KINDS) expect(user.usage(k)).toEqual({ count: 0, bytes: 0 });
      },
    ),
    { numRuns: 300 },
  );
}, 120_000);
