import { describe, expect, test } from "bun:test";
import { check, type Delivery, type HistoryEntry, type MemberLog, type SentMessage } from "./checker.ts";

const sent = (ids: string[], receipted = true): SentMessage[] =>
  ids.map((id) => ({ id, room: "r", receipted }));
const d = (seq: number, id: string | undefined, sub = 0, replay = false): Delivery => ({
  seq,
  id,
  sub,
  replay,
});
const member = (mode: "since" | "stored", deliveries: Delivery[], abnormalBefore = [false]): MemberLog => ({
  member: "m",
  room: "r",
  mode,
  deliveries,
  abnormalBefore,
});
const hist = (entries: HistoryEntry[]) => new Map([["r", entries]]);
const clean = hist([
  { seq: 1, id: "a" },
  { seq: 2, id: "b" },
  { seq: 3, id: "c" },
]);

describe("load generator checker", () => {
  test("everything once, in order, in the history: ok", () => {
    const r = check(sent(["a", "b", "c"]), [member("since", [d(1, "a"), d(2, "b"), d(3, "c")])], clean);
    expect(r).toMatchObject({
      ok: true,
      receipted: 3,
      lost: 0,
      duplicates: 0,
      reordered: 0,
      writtenTwice: 0,
    });
    expect(r.findings).toEqual([]);
  });

  test("a receipted message a member never got is lost; an unreceipted one may be missing", () => {
    const r = check(
      [...sent(["a", "b"]), ...sent(["x"], false)],
      [member("since", [d(1, "a")])],
      hist([
        { seq: 1, id: "a" },
        { seq: 2, id: "b" },
      ]),
    );
    expect(r.ok).toBe(false);
    expect(r.lost).toBe(1);
    expect(r.findings[0]).toMatchObject({ rule: "lost", detail: "receipted message b never delivered" });
  });

  test("x-since-seq members: a seq twice is a duplicate, a smaller seq later is a reorder, even across reconnects", () => {
    const dup = check(
      sent(["a", "b"]),
      [member("since", [d(1, "a"), d(2, "b"), d(2, "b", 1, true)], [false, true])],
      undefined,
    );
    expect(dup).toMatchObject({ ok: false, duplicates: 1, reordered: 0, redelivered: 0 });
    const re = check(
      sent(["a", "b"]),
      [member("since", [d(2, "b"), d(1, "a", 1)], [false, false])],
      undefined,
    );
    expect(re).toMatchObject({ ok: false, duplicates: 0, reordered: 1 });
  });

  test("stored-position members: a replay after an abnormal end may repeat (counted); after a clean end it may not", () => {
    const deliveries = [d(1, "a"), d(2, "b"), d(2, "b", 1, true), d(3, "c", 1)];
    const afterCrash = check(sent(["a", "b", "c"]), [member("stored", deliveries, [false, true])], clean);
    expect(afterCrash).toMatchObject({ ok: true, duplicates: 0, redelivered: 1 });
    const afterDrain = check(sent(["a", "b", "c"]), [member("stored", deliveries, [false, false])], clean);
    expect(afterDrain).toMatchObject({ ok: false, duplicates: 1, redelivered: 0 });
    expect(afterDrain.findings[0]!.detail).toContain("in a replay after a clean close");
    // A live repeat is never allowed, and order holds within each subscription.
    const live = check(
      sent(["a", "b"]),
      [member("stored", [d(1, "a"), d(2, "b"), d(2, "b", 1, false)], [false, true])],
      undefined,
    );
    expect(live).toMatchObject({ ok: false, duplicates: 1 });
    const order = check(sent(["a", "b"]), [member("stored", [d(2, "b"), d(1, "a")])], undefined);
    expect(order).toMatchObject({ ok: false, reordered: 1 });
  });

  test("one logical message under two seqs (a retry the server stored again) is written twice", () => {
    const r = check(
      sent(["a", "b"]),
      [member("since", [d(1, "a"), d(2, "b"), d(3, "b")])],
      hist([
        { seq: 1, id: "a" },
        { seq: 2, id: "b" },
        { seq: 3, id: "b" },
      ]),
    );
    expect(r).toMatchObject({ ok: false, writtenTwice: 1, duplicates: 0, lost: 0 });
    expect(r.findings[0]).toMatchObject({ rule: "written-twice", detail: "message b stored as seqs 2, 3" });
  });

  test("history: out of order, a receipted message absent, a delivered seq absent", () => {
    const r = check(
      sent(["a", "b", "c"]),
      [member("since", [d(1, "a"), d(2, "b"), d(3, "c")])],
      hist([
        { seq: 2, id: "b" },
        { seq: 1, id: "a" },
      ]),
    );
    expect(r.ok).toBe(false);
    expect(r.historyProblems).toBe(3);
    expect(r.findings.map((f) => f.detail)).toEqual([
      "history has seq 1 after 2",
      "receipted message c missing from the history",
      "delivered seq 3 missing from the history",
    ]);
  });

  test("a delivery nobody got a receipt for counts as outcome unknown, not as a fault", () => {
    const r = check(
      [...sent(["a"]), ...sent(["b"], false)],
      [member("since", [d(1, "a"), d(2, "b")])],
      undefined,
    );
    expect(r).toMatchObject({ ok: true, unreceiptedDelivered: 1 });
  });

  test("join and leave events (no message id) take part in order checks only", () => {
    const r = check(sent(["a"]), [member("since", [d(1, undefined), d(2, "a")])], undefined);
    expect(r.ok).toBe(true);
    const bad = check(sent(["a"]), [member("since", [d(2, "a"), d(1, undefined)])], undefined);
    expect(bad.reordered).toBe(1);
  });

  test("findings are capped per rule", () => {
    const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
    const r = check(sent(ids), [member("since", [])], undefined, 5);
    expect(r.lost).toBe(30);
    expect(r.findings).toHaveLength(5);
  });
});
