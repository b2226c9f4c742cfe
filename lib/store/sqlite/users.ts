import type { Database } from "bun:sqlite";
import { prefixUpperBound } from "../dm-key.ts";
import type { RefreshTokenRecord, User, UserStore, UserWithSecret } from "../types.ts";
import { normalizeUsername, usernameSkeleton } from "../username.ts";
import { usernameConflict } from "../username-conflict.ts";

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: string;
}

interface RefreshRow {
  token_hash: string;
  family_id: string;
  user_id: string;
  expires_at: string;
  used_at: string | null;
  used_by: string | null;
  revoked_at: string | null;
}

const toUser = (r: UserRow): User => ({ id: r.id, username: r.username, createdAt: r.created_at });

const toRefresh = (r: RefreshRow): RefreshTokenRecord => ({
  tokenHash: r.token_hash,
  familyId: r.family_id,
  userId: r.user_id,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  usedBy: r.used_by,
  revokedAt: r.revoked_at,
});

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/** Gives rows from before skeletons were stored theirs; a look-alike of an earlier row keeps NULL. */
export function backfillSkeletons(db: Database): void {
  const rows = db.query("SELECT id, username FROM users WHERE username_skeleton IS NULL").all() as {
    id: string;
    username: string;
  }[];
  const update = db.query(
    `UPDATE users SET username_skeleton = $skeleton WHERE id = $id
     AND NOT EXISTS (SELECT 1 FROM users WHERE username_skeleton = $skeleton)`,
  );
  for (const r of rows) update.run({ id: r.id, skeleton: usernameSkeleton(r.username) });
}

export function sqliteUserStore(db: Database): UserStore {
  return {
    async createUser(username, passwordHash) {
      const row: UserRow = {
        id: Bun.randomUUIDv7(),
        username: normalizeUsername(username),
        password_hash: passwordHash,
        created_at: new Date().toISOString(),
      };
      try {
        db.query(
          `INSERT INTO users (id, username, username_skeleton, password_hash, created_at)
           VALUES ($id, $username, $skeleton, $password_hash, $created_at)`,
        ).run({ ...row, skeleton: usernameSkeleton(row.username) });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const exact = db
          .query("SELECT 1 FROM users WHERE username = $username")
          .get({ username: row.username });
        throw usernameConflict(exact !== null);
      }
      return toUser(row);
    },

    async findByUsername(username) {
      const row = db
        .query("SELECT * FROM users WHERE username = $username AND deleted_at IS NULL")
        .get({ username: normalizeUsername(username) }) as UserRow | null;
      return row ? ({ ...toUser(row), passwordHash: row.password_hash } satisfies UserWithSecret) : null;
    },

    async findById(id) {
      const row = db
        .query("SELECT * FROM users WHERE id = $id AND deleted_at IS NULL")
        .get({ id }) as UserRow | null;
      return row ? toUser(row) : null;
    },

    async findByIds(ids) {
      if (ids.length === 0) return [];
      const rows = db
        .query(
          `SELECT * FROM users WHERE id IN (SELECT value FROM json_each($ids)) AND deleted_at IS NULL ORDER BY id`,
        )
        .all({ ids: JSON.stringify(ids) }) as UserRow[];
      return rows.map(toUser);
    },

    async search(prefix, { after, limit }) {
      const rows = db
        .query(
          `SELECT * FROM users WHERE username >= $prefix AND username > $after AND username < $upper
           AND deleted_at IS NULL ORDER BY username LIMIT $limit`,
        )
        .all({ prefix, after: after ?? "", upper: prefixUpperBound(prefix), limit }) as UserRow[];
      return rows.map(toUser);
    },

    async deleteUser(id) {
      const remove = db.transaction(() => {
        const gone = db
          .query(
            "UPDATE users SET deleted_at = $now, password_hash = '' WHERE id = $id AND deleted_at IS NULL",
          )
          .run({ id, now: new Date().toISOString() }).changes;
        db.query("DELETE FROM refresh_tokens WHERE user_id = $id").run({ id });
        return gone > 0;
      });
      return remove.immediate();
    },

    async getSettings(id) {
      const row = db
        .query("SELECT read_receipts FROM users WHERE id = $id AND deleted_at IS NULL")
        .get({ id }) as { read_receipts: number } | null;
      return row ? { readReceipts: row.read_receipts === 1 } : null;
    },

    async updateSettings(id, changes) {
      const row = db
        .query(
          "UPDATE users SET read_receipts = COALESCE($receipts, read_receipts) WHERE id = $id AND deleted_at IS NULL",
        )
        .run({ id, receipts: changes.readReceipts === undefined ? null : changes.readReceipts ? 1 : 0 });
      return row.changes > 0;
    },

    async withoutReadReceipts(ids) {
      if (ids.length === 0) return new Set();
      const rows = db
        .query("SELECT id FROM users WHERE id IN (SELECT value FROM json_each($ids)) AND read_receipts = 0")
        .all({ ids: JSON.stringify(ids) }) as { id: string }[];
      return new Set(rows.map((r) => r.id));
    },

    async saveRefreshToken(r) {
      db.query(
        `INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
         VALUES ($tokenHash, $familyId, $userId, $expiresAt)`,
      ).run({ tokenHash: r.tokenHash, familyId: r.familyId, userId: r.userId, expiresAt: r.expiresAt });
    },

    async useRefreshToken(tokenHash, use) {
      const spend = db.transaction(() => {
        const row = db
          .query("SELECT * FROM refresh_tokens WHERE token_hash = $tokenHash")
          .get({ tokenHash }) as RefreshRow | null;
        if (!row) return null;
        if (row.used_at === null) {
          db.query(
            "UPDATE refresh_tokens SET used_at = $at, used_by = $by WHERE token_hash = $tokenHash",
          ).run({ at: use.at, by: use.by, tokenHash });
        }
        return toRefresh(row);
      });
      return spend.immediate();
    },

    async sessionActive(userId, familyId) {
      const row = db
        .query(
          `SELECT EXISTS (SELECT 1 FROM users WHERE id = $userId AND deleted_at IS NULL) AS user,
                  EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $familyId AND revoked_at IS NOT NULL) AS revoked`,
        )
        .get({ userId, familyId: familyId ?? null }) as { user: number; revoked: number };
      return row.user === 1 && row.revoked === 0;
    },

    async revokeRefreshFamily(familyId) {
      db.query(
        "UPDATE refresh_tokens SET revoked_at = $now WHERE family_id = $familyId AND revoked_at IS NULL",
      ).run({ now: new Date().toISOString(), familyId });
    },
  };
}
