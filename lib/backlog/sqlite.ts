import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type ChatMessage, type ChatMessageType, DELETED_USER_NAME } from "../chat/message.ts";
import { WriteThread } from "../sqlite/write-thread.ts";
import { prepareAppend } from "./sqlite-append.ts";
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
  /** Lines up to this seq are of a deleted account (deleted_senders); null when it was not deleted. */
  deleted_up_to: number | null;
}

const toMessage = (row: Row): ChatMessage => {
  const m: ChatMessage = {
    ...(row.extra ? (JSON.parse(row.extra) as Partial<ChatMessage>) : {}),
    id: row.id,
    roomId: row.room_id,
    seq: row.seq,
    type: row.type,
    sender: {
      id: row.sender_id,
      username:
        row.deleted_up_to !== null && row.seq <= row.deleted_up_to ? DELETED_USER_NAME : row.sender_name,
    },
    text: row.text,
    sentAt: row.sent_at,
  };
  if (row.client_msg_id !== null) m.clientMsgId = row.client_msg_id;
  if (row.edited_at) m.editedAt = row.edited_at;
  if (row.deleted_at) m.deletedAt = row.deleted_at;
  return m;
};

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
  // A deleted account's lines read as the deleted user through this small table, joined on read,
  // instead of an UPDATE found by an index of every message by sender: that index took a leaf of its
  // own per (room, sender) in every write batch — a page written to the WAL and again at checkpoint —
  // for an event an account has once (W2 at 1,000 members: the backlog wrote ~35 KiB per message).
  `DROP INDEX IF EXISTS messages_sender;
   CREATE TABLE deleted_senders (
     room_id TEXT NOT NULL,
     sender_id TEXT NOT NULL,
     up_to_seq INTEGER NOT NULL,
     PRIMARY KEY (room_id, sender_id)
   ) WITHOUT ROWID;`,
];

/** A message row with its sender's deletion, when the account was deleted (deleted_senders). */
const WITH_DELETIONS = `SELECT m.*, d.up_to_seq AS deleted_up_to FROM messages m
  LEFT JOIN deleted_senders d ON d.room_id = m.room_id AND d.sender_id = m.sender_id`;

/** Every read; each is a range of the primary key (sqlite.test.ts pins the query plans). */
export const READS = {
  after: `${WITH_DELETIONS} WHERE m.room_id = ?1 AND m.seq > ?2 ORDER BY m.seq ASC LIMIT ?3`,
  before: `${WITH_DELETIONS} WHERE m.room_id = ?1 AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3`,
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
export function createSqliteBacklog(
  path: string,
  opts: {
    /**
     * Writes in a thread of its own (sqlite-append-worker.ts), off the event loop; a file only. Reads
     * stay on this connection and see each batch once append() has resolved (it was committed).
     */
    writerThread?: boolean;
  } = {},
): Backlog {
  const thread =
    opts.writerThread && path !== ":memory:"
      ? new WriteThread<ChatMessage>(
          new URL("./sqlite-append-worker.ts", import.meta.url),
          path,
          "backlog append",
        )
      : undefined;
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

  const appendAll = prepareAppend(db);
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
    // A read runs on the event loop: keep each page short.
    pageReadTargetMs: 20,
    async append(messages) {
      open();
      if (messages.length === 0) return;
      if (thread) await thread.write(messages);
      else appendAll(messages);
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
      await thread?.close();
      db.close();
    },
  };
}
