import { afterAll, beforeAll, expect, test } from "bun:test";
import type { MessageBus } from "../../lib/bus/types.ts";
import { type ControlEvent, controlKey } from "../../lib/chat/control.ts";
import { type ChatMessage, type LoggedMessage, newDraft } from "../../lib/chat/message.ts";
import { eventually } from "../eventually.ts";

/**
 * Opens a handle onto one shared bus; two handles behave like two replicas on one cluster.
 * `teardown` runs once after the suite (drop the topic, delete the file).
 */
export interface BusFixture {
  open(): Promise<MessageBus>;
  teardown?(): Promise<void>;
  /** Per-test limit; real services need more than bun's 5 s default. */
  timeoutMs?: number;
}

const alice = { id: "u-alice", username: "alice" };

function byRoom(messages: readonly ChatMessage[]): Map<string, number[]> {
  const rooms = new Map<string, number[]>();
  for (const m of messages) rooms.set(m.roomId, [...(rooms.get(m.roomId) ?? []), m.seq]);
  return rooms;
}

function expectStrictlyIncreasing(seqs: readonly number[]): void {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
}

/** The behaviour every MessageBus adapter must have. Call inside a describe(). */
export function busContract(fixture: BusFixture): void {
  let a: MessageBus;
  let b: MessageBus;
  const run = crypto.randomUUID().slice(0, 8);
  const timeout = fixture.timeoutMs ?? 5_000;
  const room = (name: string) => `${run}-${name}`;

  beforeAll(async () => {
    a = await fixture.open();
    b = await fixture.open();
  }, timeout);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fixture.teardown?.();
  }, timeout);

  test(
    "publish resolves with seq strictly increasing per room, in call order",
    async () => {
      const rooms = [room("p1"), room("p2"), room("p3")];
      const published = await Promise.all(
        Array.from({ length: 90 }, (_, i) => a.publish(newDraft(rooms[i % 3]!, "message", alice, `m${i}`))),
      );
      // 0 is reserved for "before the first message" (read positions, Backlog.after(room, 0)).
      expect(Math.min(...published.map((m) => m.seq))).toBeGreaterThan(0);
      for (const [, seqs] of byRoom(published)) {
        expect(seqs).toHaveLength(30);
        expectStrictlyIncreasing(seqs);
      }
      expect(published.map((m) => m.text)).toEqual(Array.from({ length: 90 }, (_, i) => `m${i}`));
    },
    timeout,
  );

  test(
    "every subscriber on every handle gets each message once, in seq order per room, same seq",
    async () => {
      const rooms = [room("s1"), room("s2")];
      const seenA: ChatMessage[] = [];
      const seenB: ChatMessage[] = [];
      const mine = (m: ChatMessage) => rooms.includes(m.roomId);
      const stopA = await a.subscribe((m) => mine(m) && seenA.push(m));
      const stopB = await b.subscribe((m) => mine(m) && seenB.push(m));
      const published = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          (i % 2 ? a : b).publish(newDraft(rooms[i % 2]!, "message", alice, `s${i}`)),
        ),
      );
      await eventually(() => seenA.length >= 60 && seenB.length >= 60, "both subscribers to see 60 messages");
      await Bun.sleep(50);
      await stopA();
      await stopB();

      const expected = new Map(published.map((m) => [m.id, m.seq]));
      for (const seen of [seenA, seenB]) {
        expect(seen).toHaveLength(60);
        expect(new Set(seen.map((m) => m.id)).size).toBe(60);
        for (const m of seen) expect(m.seq).toBe(expected.get(m.id)!);
        for (const [, seqs] of byRoom(seen)) expectStrictlyIncreasing(seqs);
      }
      expect(seenA[0]).toEqual(published.find((m) => m.id === seenA[0]!.id)!);
    },
    timeout,
  );

  test(
    "every message carries its room's epoch, the same from publish, subscribe and consume, on every handle",
    async () => {
      const rooms = [room("e1"), room("e2"), room("e3")];
      for (const r of rooms) {
        expect(a.epochOf(r)).toBe(b.epochOf(r));
        expect(a.epochOf(r)).toMatch(/\S/);
      }
      const seen: LoggedMessage[] = [];
      const stop = await b.subscribe((m) => rooms.includes(m.roomId) && seen.push(m));
      const consumed: LoggedMessage[] = [];
      const stopConsume = await b.consume(`epochs-${run}`, async (batch) => {
        consumed.push(...batch.filter((m) => rooms.includes(m.roomId)));
      });
      const published = await Promise.all(rooms.map((r) => a.publish(newDraft(r, "message", alice, r))));
      await eventually(() => seen.length === 3 && consumed.length === 3, "the three seen and consumed");
      await stop();
      await stopConsume();
      for (const got of [published, seen, consumed]) {
        for (const m of got) expect(m.epoch).toBe(a.epochOf(m.roomId));
      }
    },
    timeout,
  );

  test(
    "caughtUp resolves only once the handle's subscribers have every message published before it",
    async () => {
      const r = room("cu");
      const other = room("cu-other");
      const seen: string[] = [];
      const stop = await b.subscribe((m) => m.roomId === r && seen.push(m.text));
      // A room that was never written to is caught up at once.
      await b.caughtUp(room("cu-empty"), timeout);
      for (let round = 0; round < 5; round++) {
        const texts = Array.from({ length: 20 }, (_, i) => `r${round}-${i}`);
        await Promise.all([
          ...texts.map((t) => a.publish(newDraft(r, "message", alice, t))),
          a.publish(newDraft(other, "message", alice, `noise${round}`)),
        ]);
        // Checked right away, with no waiting of our own: the other handle's reader may lag.
        await b.caughtUp(r, timeout);
        expect(seen.slice(-20)).toEqual(texts);
      }
      expect(seen).toHaveLength(100);
      await stop();
    },
    timeout,
  );

  test(
    "a new handle's first subscriber can ask for the log's recent past: handed over first, marked past",
    async () => {
      const r = room("past");
      const before = await Promise.all(
        ["p1", "p2", "p3"].map((t) => a.publish(newDraft(r, "message", alice, t))),
      );
      const c = await fixture.open();
      try {
        const seen: { text: string; seq: number; past: boolean }[] = [];
        const stop = await c.subscribe(
          (m, past) => {
            if (m.roomId === r) seen.push({ text: m.text, seq: m.seq, past });
          },
          { pastMs: 60_000 },
        );
        // Resolved: the past has been handed over already.
        expect(seen).toEqual(before.map((m) => ({ text: m.text, seq: m.seq, past: true })));
        await a.publish(newDraft(r, "message", alice, "live"));
        await eventually(() => seen.length === 4, "the live message");
        expect(seen[3]).toMatchObject({ text: "live", past: false });
        await stop();
      } finally {
        await c.close();
      }
    },
    timeout,
  );

  test(
    "a subscriber sees nothing after it unsubscribes",
    async () => {
      const r = room("u1");
      const seen: ChatMessage[] = [];
      const stop = await a.subscribe((m) => m.roomId === r && seen.push(m));
      await a.publish(newDraft(r, "message", alice, "before"));
      await eventually(() => seen.length === 1, "the first message");
      await stop();
      const other: ChatMessage[] = [];
      const stopOther = await a.subscribe((m) => m.roomId === r && other.push(m));
      await a.publish(newDraft(r, "message", alice, "after"));
      await eventually(() => other.length === 1, "the second message on another subscriber");
      await stopOther();
      expect(seen.map((m) => m.text)).toEqual(["before"]);
    },
    timeout,
  );

  test(
    "consume redelivers a batch whose handler threw, and commits only what resolved",
    async () => {
      const r = room("c1");
      const group = `${run}-writer`;
      const mine = (batch: ChatMessage[]) => batch.filter((m) => m.roomId === r);
      const first = await Promise.all(
        Array.from({ length: 10 }, (_, i) => a.publish(newDraft(r, "message", alice, `c${i}`))),
      );

      const failed: ChatMessage[] = [];
      const handled: ChatMessage[] = [];
      let throws = 1;
      const stop = await a.consume(group, async (batch) => {
        if (throws > 0 && mine(batch).length > 0) {
          throws--;
          failed.push(...mine(batch));
          throw new Error("backlog is down");
        }
        handled.push(...mine(batch));
      });
      await eventually(() => handled.length >= 10, "the 10 messages to be handled after a failure");
      await stop();
      expect(failed.length).toBeGreaterThan(0);
      expect(handled.map((m) => m.id)).toEqual(first.map((m) => m.id));

      // A consumer that never succeeds commits nothing.
      const second = await Promise.all(
        Array.from({ length: 5 }, (_, i) => a.publish(newDraft(r, "message", alice, `d${i}`))),
      );
      const refused: ChatMessage[] = [];
      const stopRefusing = await b.consume(group, async (batch) => {
        // Other tests' rooms pass, so that a batch of theirs cannot hold up this room's partition.
        if (mine(batch).length === 0) return;
        refused.push(...mine(batch));
        throw new Error("still down");
      });
      await eventually(() => refused.length >= 5, "the refusing consumer to see the new messages");
      await stopRefusing();

      // After a restart: nothing committed comes again, nothing uncommitted is lost.
      const restarted: ChatMessage[] = [];
      const stopRestarted = await b.consume(group, async (batch) => {
        restarted.push(...mine(batch));
      });
      await eventually(() => restarted.length >= 5, "the restarted consumer to catch up");
      await Bun.sleep(100);
      await stopRestarted();
      expect(restarted.map((m) => m.id)).toEqual(second.map((m) => m.id));
    },
    timeout,
  );

  test(
    "control events reach every control subscriber on every handle",
    async () => {
      const seenA: ControlEvent[] = [];
      const seenB: ControlEvent[] = [];
      const r = room("ctl");
      const mine = (e: ControlEvent) => controlKey(e) === r || controlKey(e) === `user-${r}`;
      const stopA = await a.subscribeControl((e) => mine(e) && seenA.push(e));
      const stopB = await b.subscribeControl((e) => mine(e) && seenB.push(e));
      const events: ControlEvent[] = [
        { type: "member-removed", roomId: r, userId: "u-bob", reason: "left" },
        { type: "sessions-revoked", userId: `user-${r}`, reason: "account-deleted" },
        { type: "room-deleted", roomId: r },
      ];
      for (const e of events) await b.publishControl(e);
      await eventually(() => seenA.length >= 3 && seenB.length >= 3, "both control subscribers");
      await stopA();
      await stopB();
      // In order per key (a room, an account); keys need not keep their order with each other.
      const byKey = (list: ControlEvent[], key: string) => list.filter((e) => controlKey(e) === key);
      for (const seen of [seenA, seenB]) {
        expect(byKey(seen, r)).toEqual(byKey(events, r));
        expect(byKey(seen, `user-${r}`)).toEqual(byKey(events, `user-${r}`));
      }
    },
    timeout,
  );
}
