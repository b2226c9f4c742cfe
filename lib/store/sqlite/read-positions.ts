import type { Database } from "bun:sqlite";
import type { ReadPosition } from "../types.ts";

/** Rows per multi-row read-position UPDATE: 3 parameters each, well under SQLite's 32,766. */
const READ_POSITIONS_PER_STATEMENT = 500;

/**
 * The read positions' one write: a batch in one transaction, one multi-row UPDATE per 500 positions
 * (a position only moves forward). Run in the stores' writer thread (read-positions-worker.ts) for a
 * file, inline for ":memory:".
 */
export function prepareAdvanceReadPositions(db: Database): (positions: readonly ReadPosition[]) => void {
  return db.transaction((positions: readonly ReadPosition[]) => {
    for (let at = 0; at < positions.length; at += READ_POSITIONS_PER_STATEMENT) {
      const chunk = positions.slice(at, at + READ_POSITIONS_PER_STATEMENT);
      const args: (string | number)[] = [];
      for (const p of chunk) args.push(p.roomId, p.userId, p.seq);
      // One statement for the chunk (prepared once per chunk size, cached by bun:sqlite).
      db.query(
        `UPDATE memberships SET read_seq = MAX(memberships.read_seq, v.column3)
         FROM (VALUES ${"(?,?,?),".repeat(chunk.length).slice(0, -1)}) AS v
         WHERE memberships.room_id = v.column1 AND memberships.user_id = v.column2`,
      ).run(...args);
    }
  });
}
