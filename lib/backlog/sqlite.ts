import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type ChatMessage, type ChatMessageType, DELETED_USER_NAME, toChatMessage } from "../chat/message.ts";
import type { Backlog } from "./types.ts";

interface Row {
  id: string;
  room_id: string;
  seq: number;
  type: ChatMessageType;
  sender_id: string;
  sender_name: string;
  text: string;
  sent_at: string;
  client_msg_id: string | null;
  edited_at: string | null;
  deleted_at: string | null;
  /** The kind-specific fields (target, changes, by, ...) as JSON. */
  extra: string | null;
}

const toMessage = (row: Row): ChatMessage => {
  const m: ChatMessage = {
    ...(row.extra ? (JSON.parse(row.extra) as Partial<ChatMessage>) : {}),
    id: row.id,
    roomId: row.room_id,
    seq: row.seq,
    type: row.type,
    sender: { id: row.sender_id, username: row.sender_name },
    text: row.text,
    sentAt: row.sent_at,
  };
  if (row.client_msg_id !== null) m.clientMsgId = row.client_msg_id;
  if (row.edited_at) m.editedAt = row.edited_at;
  if (row.deleted_at) m.deletedAt = row.deleted_at;
  return m;
};

/** Everything of a message beyond its columns, as stored in `extra`; null when there is nothing. */
function extraOf(m: ChatMessage): string | null {
  const { id, roomId, seq, type, sender, text, sentAt, clientMsgId, editedAt, deletedAt, ...extra } =
    toChatMessage(m);
  return Object.keys(extra).length > 0 ? JSON.stringify(extra) : null;
}

/**
 * Columns for edits, deletes and kind-specific fields, versioned with user_version: entry i brings the
 * file from version i to i + 1. Version 0 is the table as created below (older files carry on).
 */
const migrations = [
  `ALTER TABLE messages ADD COLUMN edited_at TEXT;
   ALTER TABLE messages ADD COLUMN deleted_at TEXT;
   ALTER TABLE messages ADD COLUMN extra TEXT;
   ALTER TABLE messages ADD COLUMN target_seq INTEGER;
   ALTER TABLE messages ADD COLUMN amended_seq INTEGER;
   CREATE INDEX messages_target ON messages (room_id, target_seq) WHERE target_seq IS NOT NULL;
   CREATE INDEX messages_sender ON messages (room_id, sender_id);`,
  // Unread counts walk a room's chat messages only, past its join/leave/update lines and amendments.
  "CREATE INDEX messages_chat ON messages (room_id, seq) WHERE type = 'message';",
];

/** Every read; each is a range of the primary key (sqlite.test.ts pins the query plans). */
export const READS = {
  after: "SELECT * FROM messages WHERE room_id = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3",
  before: "SELECT * FROM messages WHERE room_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
  // One statement for all the rooms; each count walks the key from the position and stops at the
  // cap, so it costs O(log N + cap) per room.
  countsAfter: `SELECT p.key AS room, (SELECT COUNT(*) FROM (
      SELECT 1 FROM messages m WHERE m.room_id = p.key AND m.seq > p.value LIMIT ?2
    )) AS n
    FROM json_each(?1) AS p`,
  lastSeq: "SELECT seq FROM messages WHERE room_id = ?1 ORDER BY seq DESC LIMIT 1",
  // The same walk over the room's chat messages only (messages_chat), skipping the reader's own and
  // deleted ones: O(log N + cap + the reader's own and deleted messages past the position) per room.
  unreadCounts: `SELECT p.key AS room, (SELECT COUNT(*) FROM (
      SELECT 1 FROM messages m INDEXED BY messages_chat
      WHERE m.room_id = p.key AND m.type = 'message' AND m.seq > p.value
        AND m.sender_id <> ?3 AND m.deleted_at IS NULL
      LIMIT ?2
    )) AS n
    FROM json_each(?1) AS p`,
} as const;

/**
 * The embedded backlog: one SQLite table keyed by (room, seq). `path` is a file or ":memory:".
 */
export function createSqliteBacklog(path: string): Backlog {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA busy_timeout = 5000");
  db.run(`CREATE TABLE IF NOT EXISTS messages (
    room_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    client_msg_id TEXT,
    PRIMARY KEY (room_id, seq)
  ) WITHOUT ROWID`);
  // Backlogs made before client message ids were stored get the column (empty for old messages).
  const columns = db.query<{ name: string }, []>("PRAGMA table_info(messages)").all();
  if (!columns.some((c) => c.name === "client_msg_id"))
    db.run("ALTER TABLE messages ADD COLUMN client_msg_id TEXT");
  db.transaction(() => {
    const { user_version: version } = db.query("PRAGMA user_version").get() as { user_version: number };
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!);
    db.exec(`PRAGMA user_version = ${migrations.length}`);
  }).immediate();

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
  const reattribute = db.prepare(
    "UPDATE messages SET sender_name = ? WHERE room_id = ? AND sender_id = ? AND seq <= ?",
  );
  const appendAll = db.transaction((messages: readonly ChatMessage[]) => {
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
        reattribute.run(DELETED_USER_NAME, m.roomId, m.sender.id, m.seq);
      }
    }
  });
  const after = db.prepare<Row, [string, number, number]>(READS.after);
  const before = db.prepare<Row, [string, number, number]>(READS.before);
  const countsAfter = db.prepare<{ room: string; n: number }, [string, number]>(READS.countsAfter);
  const lastSeq = db.prepare<{ seq: number }, [string]>(READS.lastSeq);
  const unreadCounts = db.prepare<{ room: string; n: number }, [string, number, string]>(READS.unreadCounts);
  db.run(
    "CREATE TABLE IF NOT EXISTS room_epochs (room_id TEXT PRIMARY KEY, epoch TEXT NOT NULL) WITHOUT ROWID",
  );
  const claimEpoch = db.prepare("INSERT OR IGNORE INTO room_epochs (room_id, epoch) VALUES (?, ?)");
  const epochOf = db.prepare<{ epoch: string }, [string]>("SELECT epoch FROM room_epochs WHERE room_id = ?");
  let closed = false;
  const open = () => {
    if (closed) throw new Error("backlog is closed");
  };

  return {
    async append(messages) {
      open();
      if (messages.length > 0) appendAll(messages);
    },
    async after(roomId, afterSeq, limit) {
      open();
      return after.all(roomId, afterSeq, limit).map(toMessage);
    },
    async before(roomId, beforeSeq, limit) {
      open();
      return before.all(roomId, beforeSeq, limit).map(toMessage).reverse();
    },
    async countsAfter(positions, cap) {
      open();
      const counts = new Map<string, number>();
      if (positions.size === 0) return counts;
      for (const row of countsAfter.all(JSON.stringify(Object.fromEntries(positions)), cap)) {
        if (row.n > 0) counts.set(row.room, row.n);
      }
      return counts;
    },
    async unreadCounts(reader, positions, cap) {
      open();
      const counts = new Map<string, number>();
      if (positions.size === 0) return counts;
      for (const row of unreadCounts.all(JSON.stringify(Object.fromEntries(positions)), cap, reader)) {
        if (row.n > 0) counts.set(row.room, row.n);
      }
      return counts;
    },
    async lastSeq(roomId) {
      open();
      return lastSeq.get(roomId)?.seq ?? 0;
    },
    async epochs(roomIds) {
      open();
      const found = new Map<string, string>();
      for (const roomId of roomIds) {
        const row = epochOf.get(roomId);
        if (row) found.set(roomId, row.epoch);
      }
      return found;
    },
    async claimEpoch(roomId, epoch) {
      open();
      claimEpoch.run(roomId, epoch);
      return epochOf.get(roomId)!.epoch;
    },
    async ping() {
      open();
      db.query("SELECT 1").get();
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
