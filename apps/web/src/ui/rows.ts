import type { UserRef } from "../core/api.ts";
import type { OutboxItem } from "../core/outbox.ts";
import type { TimelineMessage } from "../core/timeline.ts";
import { dayKey, dayLabel, GROUP_GAP_MS } from "./format.ts";

/** One entry of the message list: a message of the room, or one of ours still on its way. */
export type Row = { kind: "message"; m: TimelineMessage } | { kind: "outbox"; item: OutboxItem };

export interface RowMeta {
  /** The first message of the room's whole history: "This is the beginning of …" goes above it. */
  start: boolean;
  /** A date separator above this row ("Today", "Yesterday", …), or null. */
  day: string | null;
  /** The "new since your last visit" divider goes above this row. */
  divider: boolean;
  /** Same sender as the row above, soon after it: no name and avatar repeated. */
  grouped: boolean;
}

export const rowKey = (r: Row) => (r.kind === "message" ? r.m.id : `out-${r.item.id}`);

const facts = (r: Row, me: UserRef) =>
  r.kind === "message"
    ? { at: r.m.sentAt, sender: r.m.sender.id, chat: r.m.type === "message" }
    : { at: r.item.createdAt, sender: me.id, chat: true };

/**
 * How a row is decorated, from the row above it. The first loaded row gets a date separator only
 * when it is the start of the room's history: otherwise the row above it is still to be loaded.
 */
export function rowMeta(
  row: Row,
  prev: Row | undefined,
  o: { dividerSeq: number | null; hasOlder: boolean; me: UserRef; now?: Date },
): RowMeta {
  const cur = facts(row, o.me);
  const divider = row.kind === "message" && row.m.seq === o.dividerSeq;
  if (!prev) {
    return { start: !o.hasOlder, day: o.hasOlder ? null : dayLabel(cur.at, o.now), divider, grouped: false };
  }
  const before = facts(prev, o.me);
  const day = dayKey(before.at) === dayKey(cur.at) ? null : dayLabel(cur.at, o.now);
  const grouped =
    !day &&
    !divider &&
    cur.chat &&
    before.chat &&
    cur.sender === before.sender &&
    Date.parse(cur.at) - Date.parse(before.at) < GROUP_GAP_MS;
  return { start: false, day, divider, grouped };
}
