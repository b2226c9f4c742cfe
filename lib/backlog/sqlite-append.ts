import type { Database } from "bun:sqlite";
import { type ChatMessage, toChatMessage } from "../chat/message.ts";

/** Everything of a message beyond its columns, as stored in `extra`; null when there is nothing. */
function extraOf(m: ChatMessage): string | null {
  const { id, roomId, seq, type, sender, text, sentAt, clientMsgId, editedAt, deletedAt, ...extra } =
    toChatMessage(m);
  return Object.keys(extra).length > 0 ? JSON.stringify(extra) : null;
}

/**
 * The embedded backlog's one write: a batch of messages in one transaction, each an INSERT OR IGNORE
 * keyed by (room, seq), then the amendments (edits, deletes, a deleted account's name) applied in seq
 * order. Used on the event loop or in the writer thread (sqlite-append-worker.ts), on the same schema.
 */
export function prepareAppend(db: Database): (messages: readonly ChatMessage[]) => void {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO messages
       (room_id, seq, id, type, sender_id, sender_name, text, sent_at, client_msg_id, extra, target_seq)
     VALUES ($roomId, $seq, $id, $type, $senderId, $senderName, $text, $sentAt, $clientMsgId, $extra, $targetSeq)`,
  );
  // Amendments; each is a no-op when applied again.
  const edit = db.prepare(
    `UPDATE messages SET text = $text, edited_at = $at, amended_seq = $seq
     WHERE room_id = $roomId AND seq = $target AND type = 'message' AND deleted_at IS NULL
     AND (amended_seq IS NULL OR amended_seq < $seq)`,
  );
  const isDeleted = db.prepare<{ n: number }, [string, number]>(
    "SELECT COUNT(*) AS n FROM messages WHERE room_id = ? AND seq = ? AND deleted_at IS NOT NULL",
  );
  const clearText = db.prepare("UPDATE messages SET text = '' WHERE room_id = ? AND seq = ?");
  const tombstone = db.prepare(
    `UPDATE messages SET text = '', edited_at = NULL, deleted_at = COALESCE(deleted_at, $at)
     WHERE room_id = $roomId AND seq = $target AND type = 'message'`,
  );
  const clearEdits = db.prepare(
    "UPDATE messages SET text = '' WHERE room_id = ? AND target_seq = ? AND type = 'edit'",
  );
  // Read back as the deleted user up to the leave line (sqlite.ts joins it on read); never lowered.
  const markDeleted = db.prepare(
    `INSERT INTO deleted_senders (room_id, sender_id, up_to_seq) VALUES (?, ?, ?)
     ON CONFLICT (room_id, sender_id) DO UPDATE SET up_to_seq = MAX(up_to_seq, excluded.up_to_seq)`,
  );
  return db.transaction((messages: readonly ChatMessage[]) => {
    for (const m of messages) {
      insert.run({
        roomId: m.roomId,
        seq: m.seq,
        id: m.id,
        type: m.type,
        senderId: m.sender.id,
        senderName: m.sender.username,
        text: m.text,
        sentAt: m.sentAt,
        clientMsgId: m.clientMsgId ?? null,
        extra: extraOf(m),
        targetSeq: m.target?.seq ?? null,
      });
    }
    for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
      if (m.type === "edit" && m.target) {
        edit.run({ roomId: m.roomId, target: m.target.seq, text: m.text, at: m.sentAt, seq: m.seq });
        if (isDeleted.get(m.roomId, m.target.seq)!.n > 0) clearText.run(m.roomId, m.seq);
      } else if (m.type === "delete" && m.target) {
        tombstone.run({ roomId: m.roomId, target: m.target.seq, at: m.sentAt });
        clearEdits.run(m.roomId, m.target.seq);
      } else if (m.type === "leave" && m.accountDeleted) {
        markDeleted.run(m.roomId, m.sender.id, m.seq);
      }
    }
  });
}
