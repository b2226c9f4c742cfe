import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Backlog } from "../../lib/backlog/types.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";

/** Opens the backlog under test; `teardown` runs once after the suite (drop the database). */
export interface BacklogFixture {
  open(): Promise<Backlog>;
  teardown?(): Promise<void>;
  /** Per-test limit; real services need more than bun's 5 s default. */
  timeoutMs?: number;
}

let counter = 0;
function message(roomId: string, seq: number, text = `text ${seq}`): ChatMessage {
  counter++;
  return {
    id: `id-${roomId}-${seq}-${counter}`,
    roomId,
    seq,
    type: "message",
    sender: { id: "u-alice", username: "alice" },
    text,
    sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq % 60)).toISOString(),
  };
}

/** The behaviour every Backlog adapter must have. Call inside a describe(). */
export function backlogContract(fixture: BacklogFixture): void {
  let backlog: Backlog;
  const run = crypto.randomUUID().slice(0, 8);
  const timeout = fixture.timeoutMs ?? 5_000;
  const room = (name: string) => `${run}-${name}`;

  beforeAll(async () => {
    backlog = await fixture.open();
  }, timeout);
  afterAll(async () => {
    await backlog?.close();
    await fixture.teardown?.();
  }, timeout);

  test(
    "ping succeeds and an empty room has lastSeq 0 and no messages",
    async () => {
      await backlog.ping();
      const r = room("empty");
      expect(await backlog.lastSeq(r)).toBe(0);
      expect(await backlog.after(r, 0, 10)).toEqual([]);
      expect(await backlog.before(r, 100, 10)).toEqual([]);
      expect(await backlog.countsAfter(new Map([[r, 0]]), 10)).toEqual(new Map());
      expect(await backlog.countsAfter(new Map(), 10)).toEqual(new Map());
      await backlog.append([]);
    },
    timeout,
  );

  test(
    "a message's client id is stored and read back; a message without one has none",
    async () => {
      const r = room("client-id");
      const withId = { ...message(r, 1), clientMsgId: "c-42" };
      const without = message(r, 2);
      await backlog.append([withId, without]);
      expect(await backlog.after(r, 0, 10)).toEqual([withId, without]);
      expect(await backlog.before(r, 10, 10)).toEqual([withId, without]);
      expect("clientMsgId" in (await backlog.after(r, 1, 1))[0]!).toBe(false);
    },
    timeout,
  );

  test(
    "append stores messages exactly as given, and after() pages ascending with gaps",
    async () => {
      const r = room("page");
      const seqs = [3, 5, 9, 10, 14, 20];
      const stored = seqs.map((s) => message(r, s));
      // Out of order within a batch on purpose: queries order by seq, not by insertion.
      await backlog.append([stored[2]!, stored[0]!, stored[1]!]);
      await backlog.append([stored[5]!, stored[3]!, stored[4]!]);
      expect(await backlog.after(r, 0, 100)).toEqual(stored);
      expect((await backlog.after(r, 5, 2)).map((m) => m.seq)).toEqual([9, 10]);
      expect((await backlog.after(r, 20, 10)).map((m) => m.seq)).toEqual([]);
      expect(await backlog.lastSeq(r)).toBe(20);
    },
    timeout,
  );

  test(
    "before() returns the newest `limit` below beforeSeq, ascending",
    async () => {
      const r = room("before");
      await backlog.append([1, 2, 4, 7, 8, 11].map((s) => message(r, s)));
      expect((await backlog.before(r, 8, 3)).map((m) => m.seq)).toEqual([2, 4, 7]);
      expect((await backlog.before(r, 100, 2)).map((m) => m.seq)).toEqual([8, 11]);
      expect((await backlog.before(r, 1, 5)).map((m) => m.seq)).toEqual([]);
    },
    timeout,
  );

  test(
    "appending the same (room, seq) again is a no-op, also within one batch",
    async () => {
      const r = room("idem");
      const first = [1, 2, 3].map((s) => message(r, s, "original"));
      await backlog.append(first);
      await backlog.append([message(r, 2, "replayed"), message(r, 4), message(r, 3, "replayed")]);
      await backlog.append([message(r, 5), message(r, 5, "twice in one batch")]);
      const all = await backlog.after(r, 0, 100);
      expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(all.slice(0, 3)).toEqual(first);
      expect(all[4]!.text).toBe("text 5");
    },
    timeout,
  );

  test(
    "rooms are separate, and countsAfter counts what after() would return, for many rooms at once",
    async () => {
      const a = room("ca");
      const b = room("cb");
      const c = room("cc");
      await backlog.append([...[1, 2, 3, 4].map((s) => message(a, s)), ...[2, 6].map((s) => message(b, s))]);
      const counts = await backlog.countsAfter(
        new Map([
          [a, 2],
          [b, 2],
          [c, 0],
        ]),
        100,
      );
      expect(counts.get(a)).toBe(2);
      expect(counts.get(b)).toBe(1);
      expect(counts.get(c) ?? 0).toBe(0);
      expect((await backlog.countsAfter(new Map([[a, 0]]), 100)).get(a)).toBe(4);
      expect((await backlog.countsAfter(new Map([[b, 6]]), 100)).get(b) ?? 0).toBe(0);
      expect(await backlog.lastSeq(b)).toBe(6);
      expect((await backlog.after(b, 0, 10)).every((m) => m.roomId === b)).toBe(true);
    },
    timeout,
  );

  test(
    "a room's epoch is recorded by its first claim and kept; epochs() reads those that exist",
    async () => {
      const [one, two, none] = [room("epoch-1"), room("epoch-2"), room("epoch-none")];
      expect(await backlog.epochs([one, two, none])).toEqual(new Map());
      expect(await backlog.claimEpoch(one, "log-a/0")).toBe("log-a/0");
      expect(await backlog.claimEpoch(one, "log-b/0")).toBe("log-a/0");
      // Racing first claims agree on one winner.
      const raced = await Promise.all(
        ["log-c/1", "log-d/1", "log-e/1"].map((e) => backlog.claimEpoch(two, e)),
      );
      expect(new Set(raced).size).toBe(1);
      expect(await backlog.epochs([one, two, none])).toEqual(
        new Map([
          [one, "log-a/0"],
          [two, raced[0]!],
        ]),
      );
    },
    timeout,
  );

  test(
    "a large batch round-trips, and seqs beyond 2^31 keep their value",
    async () => {
      const r = room("big");
      const base = 2 ** 33;
      await backlog.append(Array.from({ length: 500 }, (_, i) => message(r, base + i)));
      expect((await backlog.countsAfter(new Map([[r, 0]]), 1_000)).get(r)).toBe(500);
      expect(await backlog.lastSeq(r)).toBe(base + 499);
      const page = await backlog.after(r, base + 100, 3);
      expect(page.map((m) => m.seq)).toEqual([base + 101, base + 102, base + 103]);
    },
    timeout,
  );

  test(
    "a long room reads the same as a list would, across any page boundary",
    async () => {
      const r = room("long");
      // 57 messages with gaps, stored in batches of uneven size as a writer would.
      const seqs = Array.from({ length: 57 }, (_, i) => 10 + i * 4 + (i % 3));
      const all = seqs.map((s) => message(r, s));
      for (const [from, to] of [
        [0, 1],
        [1, 9],
        [9, 10],
        [10, 31],
        [31, 57],
      ] as const) {
        await backlog.append(all.slice(from, to).reverse());
      }
      const model = (pred: (seq: number) => boolean) => all.filter((m) => pred(m.seq));
      expect(await backlog.lastSeq(r)).toBe(seqs[56]!);
      for (const x of [0, 9, 10, 11, 12, seqs[20]!, seqs[20]! + 1, seqs[55]!, seqs[56]!, seqs[56]! + 5]) {
        for (const limit of [1, 3, 7, 25, 100]) {
          expect(await backlog.after(r, x, limit)).toEqual(model((s) => s > x).slice(0, limit));
          expect(await backlog.before(r, x, limit)).toEqual(model((s) => s < x).slice(-limit));
        }
        const expected = model((s) => s > x).length;
        expect((await backlog.countsAfter(new Map([[r, x]]), 1_000)).get(r) ?? 0).toBe(expected);
        expect((await backlog.countsAfter(new Map([[r, x]]), 5)).get(r) ?? 0).toBe(Math.min(5, expected));
      }
    },
    timeout * 3,
  );

  test(
    "a batch redelivered from its start, partly stored or twice at once, changes nothing",
    async () => {
      const r = room("redeliver");
      const all = Array.from({ length: 23 }, (_, i) => message(r, 100 + i * 2));
      await backlog.append(all.slice(0, 8));
      // A writer stored part of its batch and failed; the batch comes again, then runs on two writers
      // at once (a rebalance lets the old owner finish what the new one also reads).
      await backlog.append(all.slice(8, 11));
      await backlog.append(all.slice(8, 16));
      await Promise.all([backlog.append(all.slice(16)), backlog.append(all.slice(16))]);
      await backlog.append(all.slice(8));
      expect(await backlog.after(r, 0, 100)).toEqual(all);
      expect(await backlog.before(r, 1_000, 5)).toEqual(all.slice(-5));
      expect((await backlog.countsAfter(new Map([[r, all[9]!.seq]]), 1_000)).get(r)).toBe(13);
      expect(await backlog.lastSeq(r)).toBe(all[22]!.seq);

      // Two writers at once on a room's very first batch.
      const fresh = Array.from({ length: 5 }, (_, i) => message(room("fresh"), i + 1));
      await Promise.all([backlog.append(fresh), backlog.append(fresh), backlog.append(fresh)]);
      expect(await backlog.after(room("fresh"), 0, 10)).toEqual(fresh);
      expect(await backlog.lastSeq(room("fresh"))).toBe(5);
    },
    timeout,
  );

  test(
    "kind-specific fields round-trip: clientMsgId, target, changes, by, accountDeleted",
    async () => {
      const r = room("fields");
      const stored = [
        { ...message(r, 1), clientMsgId: "c-1" },
        { ...message(r, 2), type: "update" as const, changes: { name: "n", maxMembers: 3, private: true } },
        { ...message(r, 3), type: "leave" as const, by: { id: "u-o", username: "owner" } },
      ];
      await backlog.append(stored);
      expect(await backlog.after(r, 0, 10)).toEqual(stored);
    },
    timeout,
  );

  test(
    "unreadCounts: only others' chat messages, not deleted — no join, leave or update lines, edits, deletes or the reader's own",
    async () => {
      const r = room("unread");
      const other = room("unread-other");
      const senders = ["u-me", "u-bob", "u-carol"];
      const types = ["message", "message", "join", "message", "leave", "update", "message"] as const;
      const lines: ChatMessage[] = [];
      let seq = 0;
      for (let i = 0; i < 260; i++) {
        seq += 1 + (i % 3); // gaps, as a shared Kafka partition leaves them
        const base = message(r, seq);
        const sender = { id: senders[i % senders.length]!, username: "x" };
        const m: ChatMessage = { ...base, type: types[i % types.length]!, sender };
        // Every 9th line amends an earlier chat message: an edit or (every other time) a delete.
        const target = lines.filter((l) => l.type === "message").at(-3);
        if (i % 9 === 8 && target) {
          m.type = i % 18 === 8 ? "delete" : "edit";
          m.text = m.type === "edit" ? "edited" : "";
          m.target = { id: target.id, seq: target.seq };
        }
        lines.push(m);
      }
      // Two batches, the deletes applied as the writer would.
      await backlog.append(lines.slice(0, 130));
      await backlog.append(lines.slice(130));
      await backlog.append(Array.from({ length: 30 }, (_, i) => message(other, i + 1)));
      const deleted = new Set(lines.filter((l) => l.type === "delete").map((l) => l.target!.seq));
      const model = (reader: string, after: number) =>
        lines.filter(
          (l) => l.seq > after && l.type === "message" && l.sender.id !== reader && !deleted.has(l.seq),
        ).length;
      for (const reader of ["u-me", "u-bob", "u-nobody"]) {
        for (const at of [0, 1, lines[40]!.seq, lines[99]!.seq, lines[100]!.seq + 1, lines[200]!.seq, seq]) {
          const want = model(reader, at);
          const got = await backlog.unreadCounts(
            reader,
            new Map([
              [r, at],
              [other, 0],
            ]),
            1_000,
          );
          expect(got.get(r) ?? 0, `${reader} after ${at}`).toBe(want);
          expect(got.get(other) ?? 0).toBe(reader === "u-alice" ? 0 : 30);
          const capped = await backlog.unreadCounts(reader, new Map([[r, at]]), 7);
          expect(capped.get(r) ?? 0).toBe(Math.min(7, want));
        }
      }
      expect(await backlog.unreadCounts("u-bob", new Map(), 10)).toEqual(new Map());
      expect(await backlog.unreadCounts("u-alice", new Map([[other, 0]]), 10)).toEqual(new Map());
    },
    timeout * 3,
  );

  test(
    "countsAfter stops at the cap, room by room, in one call",
    async () => {
      const rooms = Array.from({ length: 12 }, (_, i) => room(`cap${i}`));
      await backlog.append(
        rooms.flatMap((r, i) => Array.from({ length: i * 3 }, (_, j) => message(r, j + 1))),
      );
      const counts = await backlog.countsAfter(new Map(rooms.map((r) => [r, 1])), 10);
      for (const [i, r] of rooms.entries()) {
        expect(counts.get(r) ?? 0).toBe(Math.min(10, Math.max(0, i * 3 - 1)));
      }
    },
    timeout,
  );

  test(
    "an edit replaces its target's text with editedAt; a later edit wins, also when batches come again",
    async () => {
      const r = room("edit");
      const original = message(r, 1, "helo");
      const edit = (seq: number, text: string): ChatMessage => ({
        ...message(r, seq, text),
        type: "edit",
        target: { id: original.id, seq: 1 },
      });
      await backlog.append([original, message(r, 2), edit(3, "hello")]);
      const [first] = await backlog.after(r, 0, 1);
      expect(first).toEqual({ ...original, text: "hello", editedAt: edit(3, "").sentAt });
      await backlog.append([edit(5, "hello!")]);
      // The older edit again (a redelivered batch): the newer text stays.
      await backlog.append([edit(3, "hello")]);
      expect((await backlog.after(r, 0, 1))[0]!.text).toBe("hello!");
      const all = await backlog.after(r, 0, 10);
      expect(all.map((m) => [m.seq, m.type, m.text])).toEqual([
        [1, "message", "hello!"],
        [2, "message", "text 2"],
        [3, "edit", "hello"],
        [5, "edit", "hello!"],
      ]);
      expect(all[2]!.target).toEqual({ id: original.id, seq: 1 });
      // Edits do not edit lines that are not messages.
      const line = { ...message(r, 6, "bob joined"), type: "join" as const };
      await backlog.append([line, { ...edit(7, "x"), target: { id: line.id, seq: 6 } }]);
      expect((await backlog.after(r, 5, 1))[0]!.text).toBe("bob joined");
    },
    timeout,
  );

  test(
    "a delete leaves a tombstone: its text and that of its edits are gone, also of edits stored after it",
    async () => {
      const r = room("delete");
      const original = message(r, 1, "secret plan");
      const target = { id: original.id, seq: 1 };
      const del: ChatMessage = { ...message(r, 4, ""), type: "delete", target };
      await backlog.append([original, { ...message(r, 2, "secret plan v2"), type: "edit", target }]);
      await backlog.append([del, { ...message(r, 3), sender: { id: "u-x", username: "x" } }]);
      // An edit that raced the delete and came later in the log.
      await backlog.append([{ ...message(r, 6, "secret plan v3"), type: "edit", target }]);
      const all = await backlog.after(r, 0, 10);
      expect(all[0]).toEqual({ ...original, text: "", deletedAt: del.sentAt });
      expect(all.filter((m) => m.type === "edit").map((m) => m.text)).toEqual(["", ""]);
      expect(JSON.stringify(all)).not.toContain("secret");
      // Again: nothing changes.
      await backlog.append([del]);
      expect(await backlog.after(r, 0, 10)).toEqual(all);
      expect((await backlog.before(r, 100, 10)).map((m) => m.text)).toEqual(all.map((m) => m.text));
    },
    timeout,
  );

  test(
    "a leave line of a deleted account makes the leaver's lines in that room read as the deleted user",
    async () => {
      const r = room("gone");
      const other = room("gone-other");
      const carol = { id: "u-carol", username: "carol" };
      await backlog.append([
        { ...message(r, 1), sender: carol },
        message(r, 2),
        { ...message(r, 3), sender: carol },
        { ...message(other, 1), sender: carol },
      ]);
      await backlog.append([
        {
          ...message(r, 4, "deleted user left"),
          type: "leave",
          sender: { id: carol.id, username: "deleted user" },
          accountDeleted: true,
        },
      ]);
      const names = (await backlog.after(r, 0, 10)).map((m) => m.sender.username);
      expect(names).toEqual(["deleted user", "alice", "deleted user", "deleted user"]);
      expect((await backlog.after(other, 0, 10))[0]!.sender.username).toBe("carol");
    },
    timeout,
  );
}
