import type { Sql } from "postgres";
import { prefixUpperBound } from "../dm-key.ts";
import type { RefreshTokenRecord, User, UserStore } from "../types.ts";
import { normalizeUsername, usernameSkeleton } from "../username.ts";
import { usernameConflict } from "../username-conflict.ts";

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: Date;
}

interface RefreshRow {
  token_hash: string;
  family_id: string;
  user_id: string;
  expires_at: Date;
  used_at: Date | null;
  used_by: string | null;
  revoked_at: Date | null;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  createdAt: r.created_at.toISOString(),
});

const toRefresh = (r: RefreshRow): RefreshTokenRecord => ({
  tokenHash: r.token_hash,
  familyId: r.family_id,
  userId: r.user_id,
  expiresAt: r.expires_at.toISOString(),
  usedAt: r.used_at?.toISOString() ?? null,
  usedBy: r.used_by,
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

export const isUniqueViolation = (err: unknown) => (err as { code?: unknown })?.code === "23505";

/**
 * Gives rows from before skeletons were stored theirs; a look-alike of an earlier row keeps NULL.
 * Safe to run from several processes at once (a lost race is a unique violation, skipped).
 */
export async function backfillSkeletons(sql: Sql): Promise<void> {
  const rows = await sql<{ id: string; username: string }[]>`
    SELECT id, username FROM users WHERE username_skeleton IS NULL`;
  for (const r of rows) {
    const skeleton = usernameSkeleton(r.username);
    await sql`
      UPDATE users SET username_skeleton = ${skeleton} WHERE id = ${r.id}
      AND NOT EXISTS (SELECT 1 FROM users WHERE username_skeleton = ${skeleton})`.catch((err: unknown) => {
      if (!isUniqueViolation(err)) throw err;
    });
  }
}

export function postgresUserStore(sql: Sql): UserStore {
  return {
    async createUser(username, passwordHash) {
      const name = normalizeUsername(username);
      try {
        const [row] = await sql<UserRow[]>`
          INSERT INTO users (id, username, username_skeleton, password_hash)
          VALUES (${Bun.randomUUIDv7()}, ${name}, ${usernameSkeleton(name)}, ${passwordHash})
          RETURNING *`;
        return toUser(row!);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const [exact] = await sql`SELECT 1 FROM users WHERE username = ${name}`;
        throw usernameConflict(exact !== undefined);
      }
    },

    async findByUsername(username) {
      const [row] = await sql<UserRow[]>`
        SELECT * FROM users WHERE username = ${normalizeUsername(username)} AND deleted_at IS NULL`;
      return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
    },

    async findById(id) {
      const [row] = await sql<UserRow[]>`SELECT * FROM users WHERE id = ${id} AND deleted_at IS NULL`;
      return row ? toUser(row) : null;
    },

    async findByIds(ids) {
      if (ids.length === 0) return [];
      const rows = await sql<UserRow[]>`
        SELECT * FROM users WHERE id IN ${sql([...ids])} AND deleted_at IS NULL ORDER BY id`;
      return rows.map(toUser);
    },

    /** A range scan of the code-point-ordered index: the cost is the page, not the table. */
    async search(prefix, { after, limit }) {
      const rows = await sql<UserRow[]>`
        SELECT * FROM users
        WHERE (username COLLATE "C") >= ${prefix} AND (username COLLATE "C") > ${after ?? ""}
        AND (username COLLATE "C") < ${prefixUpperBound(prefix)}
        AND deleted_at IS NULL
        ORDER BY (username COLLATE "C") LIMIT ${limit}`;
      return rows.map(toUser);
    },

    async deleteUser(id) {
      return sql.begin(async (tx) => {
        const gone = await tx`
          UPDATE users SET deleted_at = now(), password_hash = '' WHERE id = ${id} AND deleted_at IS NULL
          RETURNING 1`;
        await tx`DELETE FROM refresh_tokens WHERE user_id = ${id}`;
        return gone.length > 0;
      });
    },

    async getSettings(id) {
      const [row] = await sql<{ read_receipts: boolean }[]>`
        SELECT read_receipts FROM users WHERE id = ${id} AND deleted_at IS NULL`;
      return row ? { readReceipts: row.read_receipts } : null;
    },

    async updateSettings(id, changes) {
      const updated = await sql`
        UPDATE users SET read_receipts = COALESCE(${changes.readReceipts ?? null}::boolean, read_receipts)
        WHERE id = ${id} AND deleted_at IS NULL RETURNING 1`;
      return updated.length > 0;
    },

    async withoutReadReceipts(ids) {
      if (ids.length === 0) return new Set();
      const rows = await sql<{ id: string }[]>`
        SELECT id FROM users WHERE id IN ${sql([...ids])} AND NOT read_receipts`;
      return new Set(rows.map((r) => r.id));
    },

    async saveRefreshToken(r) {
      await sql`
        INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
        VALUES (${r.tokenHash}, ${r.familyId}, ${r.userId}, ${r.expiresAt})`;
    },

    async useRefreshToken(tokenHash, use) {
      // The row lock makes two concurrent uses of one token see each other: the second finds used_at set.
      return sql.begin(async (tx) => {
        const [row] = await tx<
          RefreshRow[]
        >`SELECT * FROM refresh_tokens WHERE token_hash = ${tokenHash} FOR UPDATE`;
        if (!row) return null;
        if (row.used_at === null)
          await tx`UPDATE refresh_tokens SET used_at = ${use.at}, used_by = ${use.by} WHERE token_hash = ${tokenHash}`;
        return toRefresh(row);
      });
    },

    async sessionActive(userId, familyId) {
      const [row] = await sql<{ user: boolean; revoked: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM users WHERE id = ${userId} AND deleted_at IS NULL) AS user,
               EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = ${familyId ?? null}
                       AND revoked_at IS NOT NULL) AS revoked`;
      return row!.user && !row!.revoked;
    },

    async revokeRefreshFamily(familyId) {
      await sql`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = ${familyId} AND revoked_at IS NULL`;
    },
  };
}
