import { describe, expect, test } from "bun:test";
import type { ChatMessage } from "../../lib/chat/message.ts";
import { silentLogger } from "../../lib/log/index.ts";
import type { ReadPosition, RoomStore } from "../../lib/store/types.ts";
import { ConfirmedReads, type ConfirmedReadsOptions } from "./confirmed-reads.ts";
import { ReadPositionWriter } from "./read-positions.ts";
import { RoomHub, type RoomSub } from "./room-hub.ts";

/** A connection as the hub and the confirmation see it; it counts the pings it is asked to answer. */
function fakeSession(id: string) {
  const answers: ((ok: boolean) => void)[] = [];
  return {
    id,
    version: "1.2",
    state: "connected",
    pings: 0,
    /** Holds the answers until `answer()` when true. */
    slow: false,
    ws: { subscribe() {}, unsubscribe() {} },
    sendRaw() {},
    fail() {},
    confirmReceived(): Promise<boolean> {
      this.pings++;
      if (!this.slow) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => answers.push(resolve));
    },
    answer() {
      for (const a of answers.splice(0)) a(true);
    },
  };
}

const message = (roomId: string, seq: number): ChatMessage => ({
  id: crypto.randomUUID(),
  roomId,
  seq,
  type: "message",
  sender: { id: "s", username: "s" },
  text: "hi",
  sentAt: new Date(0).toISOString(),
});

function setUp(rooms: string[], options?: ConfirmedReadsOptions) {
  const hub = new RoomHub(() => {}, {
    maxHeld: 100,
    maxHeldBytes: 1 << 20,
    maxPending: 100,
    recent: { perRoom: 10, maxBytes: 1 << 20 },
  });
  const saved: ReadPosition[] = [];
  const store = {
    advanceReadPositions: async (positions: readonly ReadPosition[]) => void saved.push(...positions),
  } as unknown as RoomStore;
  const writer = new ReadPositionWriter(store, silentLogger);
  const reads = new ConfirmedReads(hub, writer, options);
  const sessions = new Map<string, ReturnType<typeof fakeSession>>();
  for (const roomId of rooms) {
    const session = fakeSession(`c-${roomId}`);
    sessions.set(roomId, session);
    const rs = hub.add(
      session as unknown as RoomSub["session"],
      { id: "sub-0", destination: `/topic/rooms/${roomId}`, ack: "auto", headers: {} },
      roomId,
      `u-${roomId}`,
    );
    hub.endReplay(rs);
  }
  return { hub, reads, writer, saved, sessions };
}

describe("confirmed reads visit only rooms with news", () => {
  test("a pass pings the connections of rooms that got messages since the last pass, and no others", async () => {
    const { hub, reads, writer, saved, sessions } = setUp(["a", "b", "c"]);
    await reads.confirmAll(); // going live counts as news; nothing to confirm yet
    hub.deliver(message("a", 1));
    hub.deliver(message("b", 1));
    await reads.confirmAll();
    expect([...sessions.values()].map((s) => s.pings)).toEqual([1, 1, 0]);
    hub.deliver(message("a", 2));
    await reads.confirmAll();
    expect([...sessions.values()].map((s) => s.pings)).toEqual([2, 1, 0]);
    await reads.confirmAll();
    expect([...sessions.values()].map((s) => s.pings)).toEqual([2, 1, 0]);
    await writer.flush();
    expect(saved.map((p) => [p.roomId, p.seq]).sort()).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
  });

  test("a room whose connection was still answering comes up again on the next pass", async () => {
    const { hub, reads, writer, saved, sessions } = setUp(["a"]);
    const a = sessions.get("a")!;
    a.slow = true;
    hub.deliver(message("a", 1));
    const first = reads.confirmAll();
    hub.deliver(message("a", 2));
    await reads.confirmAll(); // skipped: the first ping is unanswered
    expect(a.pings).toBe(1);
    a.answer();
    await first;
    a.slow = false;
    await reads.confirmAll(); // no new message, but the room was kept for this pass
    expect(a.pings).toBe(2);
    await writer.flush();
    expect(saved.map((p) => p.seq)).toEqual([2]);
  });

  test("a periodic pass spreads its pings over spreadMs in slices; the next pass skips those still waiting", async () => {
    const { hub, reads, writer, saved, sessions } = setUp(["a", "b", "c", "d"], {
      spreadMs: 200,
      sliceSessions: 2,
    });
    await reads.confirmAll();
    for (const roomId of ["a", "b", "c", "d"]) hub.deliver(message(roomId, 1));
    const pass = reads.confirmAll();
    await Bun.sleep(50);
    const pings = () => [...sessions.values()].map((s) => s.pings);
    expect(pings()).toEqual([1, 1, 0, 0]);
    await reads.confirmAll(); // the second slice is still to come: not asked twice
    expect(pings()).toEqual([1, 1, 0, 0]);
    await pass;
    expect(pings()).toEqual([1, 1, 1, 1]);
    await writer.flush();
    expect(saved.map((p) => p.roomId).sort()).toEqual(["a", "b", "c", "d"]);
  });

  test("a periodic pass pings at most maxPingsPerPass connections; those left over lead the next pass", async () => {
    const { hub, reads, writer, saved, sessions } = setUp(["a", "b", "c", "d", "e"], { maxPingsPerPass: 2 });
    await reads.confirmAll();
    for (const roomId of ["a", "b", "c", "d", "e"]) hub.deliver(message(roomId, 1));
    const pings = () => [...sessions.values()].map((s) => s.pings);
    const visited: string[] = [];
    const subsOf = hub.subsOf.bind(hub);
    hub.subsOf = (roomId) => {
      visited.push(roomId);
      return subsOf(roomId);
    };
    await reads.confirmAll();
    expect(pings()).toEqual([1, 1, 0, 0, 0]);
    expect(visited).toEqual(["a", "b"]); // the others wait, not even visited
    hub.deliver(message("a", 2)); // news again for a pinged room: it waits behind those left over
    await reads.confirmAll();
    expect(pings()).toEqual([1, 1, 1, 1, 0]);
    await reads.confirmAll();
    expect(pings()).toEqual([2, 1, 1, 1, 1]);
    await reads.confirmAll();
    expect(pings()).toEqual([2, 1, 1, 1, 1]);
    await writer.flush();
    expect(saved.map((p) => [p.roomId, p.seq]).sort()).toEqual([
      ["a", 2],
      ["b", 1],
      ["c", 1],
      ["d", 1],
      ["e", 1],
    ]);
  });

  test("a drain (all) asks every connection at once, spread or capped or not", async () => {
    const { hub, reads, sessions } = setUp(["a", "b", "c"], {
      spreadMs: 10_000,
      sliceSessions: 1,
      maxPingsPerPass: 1,
    });
    for (const roomId of ["a", "b", "c"]) hub.deliver(message(roomId, 1));
    await reads.confirmAll(true);
    expect([...sessions.values()].map((s) => s.pings)).toEqual([1, 1, 1]);
  });

  test("a drain saves what a subscription still replaying has been sent so far", async () => {
    const { hub, reads, writer, saved } = setUp([]);
    const session = fakeSession("c-r");
    const rs = hub.add(
      session as unknown as RoomSub["session"],
      { id: "sub-0", destination: "/topic/rooms/r", ack: "auto", headers: {} },
      "r",
      "u-r",
    );
    hub.deliver(message("r", 9)); // live meanwhile: held for it, not sent
    for (const seq of [1, 2, 3]) hub.sendTo(rs, message("r", seq), true);
    expect(rs.mode).toBe("replay");
    await reads.confirmAll(true);
    await writer.flush();
    expect(saved.map((p) => [p.roomId, p.userId, p.seq])).toEqual([["r", "u-r", 3]]);
  });

  /** Rooms whose connections answer only when told; one message each, so each has something to confirm. */
  function slowRooms(count: number) {
    const rooms = Array.from({ length: count }, (_, i) => `s${i}`);
    const setup = setUp(rooms);
    for (const roomId of rooms) {
      setup.sessions.get(roomId)!.slow = true;
      setup.hub.deliver(message(roomId, 1));
    }
    return { ...setup, rooms };
  }

  test("a drain waits while answers keep coming, past its quiet time in all", async () => {
    const { reads, writer, saved, sessions, rooms } = slowRooms(4);
    let answered = 0;
    let answeredAtEnd = -1;
    const drained = reads.drain(600, 10_000).then(() => {
      answeredAtEnd = answered;
    });
    for (const roomId of rooms) {
      await Bun.sleep(250);
      sessions.get(roomId)!.answer();
      answered++;
    }
    await drained;
    expect(answeredAtEnd).toBe(4); // a fixed 600 ms would have ended after two
    await writer.flush();
    expect(saved.map((p) => p.roomId).sort()).toEqual(rooms);
  });

  test("a drain gives up on connections that stay silent for its quiet time, and stops at maxMs", async () => {
    const silent = slowRooms(1);
    let start = performance.now();
    await silent.reads.drain(200, 10_000);
    expect(performance.now() - start).toBeGreaterThanOrEqual(200);
    expect(performance.now() - start).toBeLessThan(5_000);

    const { reads, sessions, rooms } = slowRooms(10);
    start = performance.now();
    const drained = reads.drain(1_000, 300);
    let stopped = false;
    void drained.then(() => {
      stopped = true;
    });
    for (const roomId of rooms) {
      if (stopped) break;
      await Bun.sleep(100);
      sessions.get(roomId)!.answer();
    }
    await drained;
    expect(performance.now() - start).toBeLessThan(900); // all ten would take 1 s
  });
});
