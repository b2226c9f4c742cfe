import type { Database } from "bun:sqlite";

/**
 * The embedded schema, versioned with SQLite's user_version: entry i brings the database from
 * version i to i + 1. Append new entries; never edit an applied one.
 */
const migrations: string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
  );
  CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
  CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    max_members INTEGER NOT NULL CHECK (max_members >= 1),
    member_count INTEGER NOT NULL DEFAULT 0 CHECK (member_count >= 0 AND member_count <= max_members),
    created_at TEXT NOT NULL
  );
  CREATE TABLE memberships (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at TEXT NOT NULL,
    read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
  );
  CREATE INDEX memberships_user ON memberships(user_id);
  `,
  // What a username looks like (usernameSkeleton): unique, so no look-alike of a name can be created,
  // even by two sign-ups at once. Rows from before have NULL until backfillSkeletons fills them.
  `
  ALTER TABLE users ADD COLUMN username_skeleton TEXT;
  CREATE UNIQUE INDEX users_username_skeleton ON users(username_skeleton);
  `,
  // Who first spent a refresh token: a reuse by the same client within seconds is a race, not a theft.
  `ALTER TABLE refresh_tokens ADD COLUMN used_by TEXT;`,
  // Room admin, private rooms and invites, direct messages, bans, account deletion, user settings
  // (Postgres: 004_chat_features.sql). Usernames compare in BINARY (code-point) order already.
  `
  ALTER TABLE users ADD COLUMN deleted_at TEXT;
  ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE rooms ADD COLUMN description TEXT NOT NULL DEFAULT '';
  ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'group' CHECK (kind IN ('group', 'dm'));
  ALTER TABLE rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE rooms ADD COLUMN dm_key TEXT;
  CREATE UNIQUE INDEX rooms_dm_key ON rooms(dm_key);
  ALTER TABLE rooms ADD COLUMN invite_gen INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE room_bans (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    banned_at TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
  );
  `,
];

/** Applies the migrations this database has not seen yet, each in its own immediate transaction. */
export function migrateSqlite(db: Database): void {
  for (;;) {
    const applied = db.transaction(() => {
      const { user_version: version } = db.query("PRAGMA user_version").get() as { user_version: number };
      const next = migrations[version];
      if (next === undefined) return false;
      db.exec(next);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      return true;
    });
    if (!applied.immediate()) return;
  }
}
