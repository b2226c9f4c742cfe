import type { ChatMessage, UserRef } from "./message.ts";

/**
 * Whether a line of a room's log counts as unread for `reader` (when past their read position): a
 * chat message by someone else, not deleted. Join, leave and update lines, edits and deletes, and the
 * reader's own messages never do. The backlogs' unreadCounts, the rooms' unread counts and the web
 * client's "new since your last visit" divider all go by this rule. (Its own module, free of zod,
 * so the browser bundle can import it.)
 */
export function unreadFor(
  m: Pick<ChatMessage, "type" | "deletedAt"> & { sender: Pick<UserRef, "id"> },
  reader: string,
): boolean {
  return m.type === "message" && m.sender.id !== reader && !m.deletedAt;
}
