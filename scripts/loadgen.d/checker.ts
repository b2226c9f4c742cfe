/**
 * The load generator's exact checker. Input: every logical message the clients sent (with whether
 * any attempt got a RECEIPT), every delivery each member saw, and each room's history from the HTTP
 * API. The rules it verifies, per room and member (every member joined before the first message):
 *
 *  1. No loss: every receipted message is delivered to every member (at some seq) and is in the
 *     room's history.
 *  2. Exactly once for members resuming with x-since-seq: no seq is delivered to them twice, and the
 *     seqs they receive strictly increase across all their connections.
 *  3. At most once for members resuming from the stored read position, except after an abnormal
 *     end of their previous connection (anything but their DISCONNECT answered by its RECEIPT, or the
 *     server's 1000/1001): the
 *     replay (x-replay) that follows may repeat messages already delivered ("redelivered", counted,
 *     allowed). Within one subscription, seqs strictly increase.
 *  4. Written once: a logical message (one x-client-msg-id, however many attempts) has one seq.
 *  5. The history is in strictly increasing seq order and holds every seq that was delivered.
 */

export type ResumeMode = "since" | "stored";

export interface Delivery {
  seq: number;
  /** The logical message id the load generator put in the text; absent for join/leave events. */
  id?: string;
  replay: boolean;
  /** Which subscription of this member to this room carried it (0, 1, ...). */
  sub: number;
}

export interface MemberLog {
  member: string;
  room: string;
  mode: ResumeMode;
  deliveries: Delivery[];
  /** Per subscription: whether the connection before it ended abnormally (index 0: false). */
  abnormalBefore: boolean[];
}

export interface SentMessage {
  id: string;
  room: string;
  receipted: boolean;
}

export interface HistoryEntry {
  seq: number;
  id?: string;
}

export interface Finding {
  rule: "lost" | "duplicate" | "reordered" | "written-twice" | "history";
  room: string;
  member?: string;
  detail: string;
}

export interface CheckResult {
  ok: boolean;
  receipted: number;
  /** (message, member) pairs missing. */
  lost: number;
  duplicates: number;
  /** Allowed repeats after an abnormal end (rule 3). */
  redelivered: number;
  reordered: number;
  /** Logical messages stored under more than one seq, counted once per extra seq. */
  writtenTwice: number;
  historyProblems: number;
  /** Delivered but never receipted (refused-but-written, or the receipt was lost): outcome unknown to the sender. */
  unreceiptedDelivered: number;
  /** The first findings of each rule (at most `maxFindings` each), for the report. */
  findings: Finding[];
}

/** The map's value for `key`, made and stored on first use. */
function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

export function check(
  sent: SentMessage[],
  members: MemberLog[],
  history: Map<string, HistoryEntry[]> | undefined,
  maxFindings = 10,
): CheckResult {
  const findings: Finding[] = [];
  const perRule = new Map<string, number>();
  const note = (f: Finding) => {
    const n = (perRule.get(f.rule) ?? 0) + 1;
    perRule.set(f.rule, n);
    if (n <= maxFindings) findings.push(f);
  };
  const receiptedByRoom = new Map<string, Set<string>>();
  const receiptedIds = new Set<string>();
  for (const s of sent) {
    if (!s.receipted) continue;
    receiptedIds.add(s.id);
    entry(receiptedByRoom, s.room, () => new Set<string>()).add(s.id);
  }
  let lost = 0;
  let duplicates = 0;
  let redelivered = 0;
  let reordered = 0;
  /** room → logical id → seqs seen anywhere (deliveries, history). */
  const seqsOf = new Map<string, Map<string, Set<number>>>();
  const seen = (room: string, id: string | undefined, seq: number) => {
    if (!id) return;
    entry(
      entry(seqsOf, room, () => new Map<string, Set<number>>()),
      id,
      () => new Set<number>(),
    ).add(seq);
  };
  const deliveredSeqs = new Map<string, Set<number>>();
  const unreceipted = new Set<string>();

  for (const m of members) {
    const got = new Set<string>();
    const seqs = new Set<number>();
    let last = 0;
    let lastInSub = new Map<number, number>();
    for (const d of m.deliveries) {
      seen(m.room, d.id, d.seq);
      if (d.id) {
        got.add(d.id);
        if (!receiptedIds.has(d.id)) unreceipted.add(d.id);
      }
      entry(deliveredSeqs, m.room, () => new Set<number>()).add(d.seq);
      const repeat = seqs.has(d.seq);
      if (m.mode === "since") {
        if (repeat) {
          duplicates++;
          note({ rule: "duplicate", room: m.room, member: m.member, detail: `seq ${d.seq} delivered again` });
        } else if (d.seq <= last) {
          reordered++;
          note({ rule: "reordered", room: m.room, member: m.member, detail: `seq ${d.seq} after ${last}` });
        }
      } else {
        const prev = lastInSub.get(d.sub) ?? 0;
        if (d.seq <= prev) {
          reordered++;
          note({
            rule: "reordered",
            room: m.room,
            member: m.member,
            detail: `seq ${d.seq} after ${prev} in one subscription`,
          });
        } else if (repeat) {
          if (d.replay && m.abnormalBefore[d.sub]) redelivered++;
          else {
            duplicates++;
            note({
              rule: "duplicate",
              room: m.room,
              member: m.member,
              detail: `seq ${d.seq} delivered again${d.replay ? " in a replay after a clean close" : " live"}`,
            });
          }
        }
        lastInSub.set(d.sub, Math.max(prev, d.seq));
      }
      seqs.add(d.seq);
      last = Math.max(last, d.seq);
    }
    lastInSub = new Map();
    for (const id of receiptedByRoom.get(m.room) ?? []) {
      if (got.has(id)) continue;
      lost++;
      note({
        rule: "lost",
        room: m.room,
        member: m.member,
        detail: `receipted message ${id} never delivered`,
      });
    }
  }

  let historyProblems = 0;
  if (history) {
    for (const [room, entries] of history) {
      let last = 0;
      const ids = new Set<string>();
      const stored = new Set<number>();
      for (const e of entries) {
        seen(room, e.id, e.seq);
        if (e.id) ids.add(e.id);
        stored.add(e.seq);
        if (e.seq <= last) {
          historyProblems++;
          note({ rule: "history", room, detail: `history has seq ${e.seq} after ${last}` });
        }
        last = Math.max(last, e.seq);
      }
      for (const id of receiptedByRoom.get(room) ?? []) {
        if (ids.has(id)) continue;
        historyProblems++;
        note({ rule: "history", room, detail: `receipted message ${id} missing from the history` });
      }
      for (const seq of deliveredSeqs.get(room) ?? []) {
        if (stored.has(seq)) continue;
        historyProblems++;
        note({ rule: "history", room, detail: `delivered seq ${seq} missing from the history` });
      }
    }
  }

  let writtenTwice = 0;
  for (const [room, ids] of seqsOf) {
    for (const [id, seqs] of ids) {
      if (seqs.size <= 1) continue;
      writtenTwice += seqs.size - 1;
      note({
        rule: "written-twice",
        room,
        detail: `message ${id} stored as seqs ${[...seqs].sort((a, b) => a - b).join(", ")}`,
      });
    }
  }

  return {
    ok: lost === 0 && duplicates === 0 && reordered === 0 && writtenTwice === 0 && historyProblems === 0,
    receipted: receiptedIds.size,
    lost,
    duplicates,
    redelivered,
    reordered,
    writtenTwice,
    historyProblems,
    unreceiptedDelivered: unreceipted.size,
    findings,
  };
}
