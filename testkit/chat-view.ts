import type { ChatMessage } from "../lib/chat/message.ts";

/** What a client shows for one message: the rule docs/protocol.md gives clients, as tests apply it. */
export interface ShownMessage {
  seq: number;
  sender: string;
  text: string;
  editedAt?: string;
  deletedAt?: string;
}

/**
 * Folds a room's events, in seq order, into what a client shows: messages by seq, with edits and
 * deletes applied to their targets (an edit of a deleted message changes nothing). A client that was
 * live and one that caught up from history or replay must end with equal views.
 */
export function foldView(events: readonly ChatMessage[]): Map<number, ShownMessage> {
  const view = new Map<number, ShownMessage>();
  for (const e of events) {
    if (e.type === "message") {
      view.set(e.seq, {
        seq: e.seq,
        sender: e.sender.username,
        text: e.text,
        ...(e.editedAt ? { editedAt: e.editedAt } : {}),
        ...(e.deletedAt ? { deletedAt: e.deletedAt } : {}),
      });
      continue;
    }
    const target = e.target && view.get(e.target.seq);
    if (!target || target.deletedAt) continue;
    if (e.type === "edit") {
      target.text = e.text;
      target.editedAt = e.sentAt;
    } else if (e.type === "delete") {
      target.text = "";
      target.deletedAt = e.sentAt;
      delete target.editedAt;
    }
  }
  return view;
}
