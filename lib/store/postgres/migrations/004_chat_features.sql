-- Room admin, private rooms and invites, direct messages, bans, account deletion, user settings.
-- Mirrored in lib/store/sqlite/schema.ts.

-- A deleted account keeps its row (its username stays reserved; history keeps its id) but has no
-- password and is never found.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;
ALTER TABLE users ADD COLUMN read_receipts boolean NOT NULL DEFAULT true;
-- Username prefix search in code-point order (the same order SQLite's BINARY collation gives).
CREATE INDEX users_username_c ON users ((username COLLATE "C"));

ALTER TABLE rooms ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN kind text NOT NULL DEFAULT 'group' CHECK (kind IN ('group', 'dm'));
ALTER TABLE rooms ADD COLUMN private boolean NOT NULL DEFAULT false;
-- "<smaller user id>:<larger user id>" for DMs: the unique key makes one DM per pair.
ALTER TABLE rooms ADD COLUMN dm_key text UNIQUE;
ALTER TABLE rooms ADD COLUMN invite_gen integer NOT NULL DEFAULT 0;

CREATE TABLE room_bans (
  room_id text NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  banned_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);
