import { beforeEach, describe, expect, test } from "bun:test";
import type { ChatMessage } from "./api.ts";
import { Outbox, type OutboxClock, type OutboxItem } from "./outbox.ts";

/** A clock the test moves, and a transport that records SENDs. */
class Harness {
  now = 1_000_000;
  timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  connected = true;
  sent: { id: string; text: string; receipt: string }[] = [];
  readonly clock: OutboxClock = {
    now: () => this.now,
    setTimer: (fn, ms) => {
      const id = ++this.nextId;
      this.timers.push({ at: this.now + ms, fn, id });
      return id;
    },
    clearTimer: (id) => {
      this.timers = this.timers.filter((t) => t.id !== id);
    },
  };
  readonly outbox = new Outbox(
    {
      send: (item: OutboxItem, receipt: string) => {
        if (!this.connected) return false;
        this.sent.push({ id: item.id, text: item.text, receipt });
        return true;
      },
    },
    this.clock,
  );

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = due.at;
      due.fn();
    }
    this.now = until;
  }

  last() {
    return this.sent[this.sent.length - 1]!;
  }

  states() {
    return this.outbox.items.get().map((i) => `${i.text}:${i.state}`);
  }
}

let seq = 100;
const echo = (text: string, roomId = "r1"): ChatMessage => ({
  id: `m${++seq}`,
  roomId,
  seq,
  type: "message",
  sender: { id: "me", username: "me" },
  text,
  sentAt: new Date().toISOString(),
});

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe("outbox", () => {
  test("sends one at a time, in order: the next only after the previous was answered", () => {
    h.outbox.enqueue("r1", "a", 0);
    h.outbox.enqueue("r1", "b", 0);
    expect(h.sent.map((s) => s.text)).toEqual(["a"]);
    h.outbox.receipt(h.last().receipt);
    expect(h.sent.map((s) => s.text)).toEqual(["a", "b"]);
    expect(h.states()).toEqual(["a:sent", "b:sending"]);
    expect(h.outbox.echo(echo("a"))).toBe(true);
    expect(h.states()).toEqual(["b:sending"]);
  });

  test("a rate-limited message is retried with the same id after retryAfterMs, and nothing overtakes it", () => {
    h.outbox.enqueue("r1", "a", 0);
    h.outbox.enqueue("r1", "b", 0);
    const first = h.last();
    h.outbox.refused(first.receipt, "rate_limited", 400);
    expect(h.states()).toEqual(["a:queued", "b:queued"]);
    h.advance(300);
    expect(h.sent).toHaveLength(1);
    h.advance(200);
    expect(h.sent).toHaveLength(2);
    expect(h.last().id).toBe(first.id);
    expect(h.last().receipt).not.toBe(first.receipt);
    expect(h.outbox.items.get()[0]!.attempts).toBe(0);
  });

  test("a refusal for good fails that message only; retry keeps its id, discard removes it", () => {
    h.outbox.enqueue("r1", "too long", 0);
    h.outbox.enqueue("r1", "fine", 0);
    const bad = h.last();
    h.outbox.refused(bad.receipt, "invalid_message");
    expect(h.states()).toEqual(["too long:failed", "fine:sending"]);
    expect(h.outbox.items.get()[0]!.note).toContain("too long");
    h.outbox.receipt(h.last().receipt);
    h.outbox.retry(bad.id);
    expect(h.last().id).toBe(bad.id);
    h.outbox.refused(h.last().receipt, "invalid_message");
    h.outbox.discard(bad.id);
    expect(h.states()).toEqual(["fine:sent"]);
  });

  test("bus unavailable: retried with backoff, then failed after five attempts", () => {
    h.outbox.enqueue("r1", "x", 0);
    for (let i = 0; i < 4; i++) {
      h.outbox.refused(h.last().receipt, "unavailable");
      expect(h.states()).toEqual(["x:queued"]);
      h.advance(9_000); // the longest backoff so far is 8 s; the next answer timeout is 15 s away
    }
    h.outbox.refused(h.last().receipt, "unavailable");
    expect(h.states()).toEqual(["x:failed"]);
    expect(new Set(h.sent.map((s) => s.id)).size).toBe(1);
  });

  test("no answer for 15 s: sent again with the same id", () => {
    h.outbox.enqueue("r1", "x", 0);
    h.advance(15_000);
    expect(h.states()).toEqual(["x:queued"]);
    h.advance(1_000);
    expect(h.sent).toHaveLength(2);
    expect(h.sent[0]!.id).toBe(h.sent[1]!.id);
  });

  test("written while disconnected: kept, then sent in order when the connection is back", () => {
    h.connected = false;
    h.outbox.enqueue("r1", "a", 0);
    h.outbox.enqueue("r1", "b", 0);
    expect(h.sent).toHaveLength(0);
    h.connected = true;
    h.outbox.connected();
    expect(h.sent.map((s) => s.text)).toEqual(["a"]);
  });

  test("connection lost with a SEND unanswered: its copy in the replay settles it, no second SEND", () => {
    h.outbox.enqueue("r1", "maybe", 5);
    h.outbox.disconnected();
    expect(h.outbox.items.get()[0]).toMatchObject({ state: "queued", uncertain: true });
    h.outbox.connected();
    expect(h.sent).toHaveLength(1); // waits a moment for the replay
    expect(h.outbox.echo(echo("maybe"))).toBe(true);
    h.advance(5_000);
    expect(h.sent).toHaveLength(1);
    expect(h.states()).toEqual([]);
  });

  test("when the copy does not come back, the uncertain message is sent again with its id", () => {
    h.outbox.enqueue("r1", "lost", 5);
    const id = h.last().id;
    h.outbox.disconnected();
    h.outbox.connected();
    h.advance(2_000);
    expect(h.sent.map((s) => s.id)).toEqual([id, id]);
  });

  test("a message never sent is not settled by someone else's identical text", () => {
    h.connected = false;
    h.outbox.enqueue("r1", "ok", 5);
    expect(h.outbox.echo(echo("ok"))).toBe(false);
    expect(h.states()).toEqual(["ok:queued"]);
  });

  test("an echoed client id settles exactly that message", () => {
    h.outbox.enqueue("r1", "same", 0);
    h.outbox.receipt(h.last().receipt);
    h.outbox.enqueue("r1", "same", 0);
    const second = h.last().id;
    expect(h.outbox.echo(echo("same"), second)).toBe(true);
    expect(h.outbox.items.get().map((i) => i.id)).not.toContain(second);
    expect(h.outbox.items.get()).toHaveLength(1);
  });

  test("a copy older than the message (lower seq) does not settle it", () => {
    h.outbox.enqueue("r1", "hello", 500);
    const old = { ...echo("hello"), seq: 400 };
    expect(h.outbox.echo(old)).toBe(false);
  });
});
