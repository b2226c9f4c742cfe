import { type ChatMessage, DELETED_USER_NAME } from "./message.ts";

/** Lines that change earlier lines of their room: edits, deletes, and a deleted account's leave. */
export function isAmendment(m: ChatMessage): boolean {
  return (
    ((m.type === "edit" || m.type === "delete") && m.target !== undefined) ||
    (m.type === "leave" && m.accountDeleted === true)
  );
}

/**
 * An earlier line of the room as `by` leaves it, by the rules the backlog applies (Backlog.append); undefined
 * when `by` does not change it. An edit sets a message's text and editedAt (a later edit wins: apply in seq
 * order); a delete makes it a tombstone and clears the text of its edits; a deleted account's leave makes
 * the account's lines read as the deleted user. A deleted message stays as it is.
 */
export function amended(line: ChatMessage, by: ChatMessage): ChatMessage | undefined {
  if (line.seq >= by.seq) return undefined;
  if (by.type === "edit" && by.target?.seq === line.seq) {
    if (line.type !== "message" || line.deletedAt !== undefined) return undefined;
    return { ...line, text: by.text, editedAt: by.sentAt };
  }
  if (by.type === "delete" && by.target) {
    if (line.seq === by.target.seq && line.type === "message" && line.deletedAt === undefined) {
      const { editedAt: _, ...rest } = line;
      return { ...rest, text: "", deletedAt: by.sentAt };
    }
    if (line.type === "edit" && line.target?.seq === by.target.seq && line.text !== "") {
      return { ...line, text: "" };
    }
    return undefined;
  }
  if (by.type === "leave" && by.accountDeleted && line.sender.id === by.sender.id) {
    if (line.sender.username === DELETED_USER_NAME) return undefined;
    return { ...line, sender: { ...line.sender, username: DELETED_USER_NAME } };
  }
  return undefined;
}

/** An amendment as it is kept: an edit of a message already deleted keeps no text. */
export function asKept(by: ChatMessage, target: ChatMessage | undefined): ChatMessage {
  return by.type === "edit" && target?.deletedAt !== undefined ? { ...by, text: "" } : by;
}
