import type { Member } from "./member.ts";
import { StompConnection } from "./stomp.ts";

/** Presence must match who is really connected within this long after the last change. */
export const PRESENCE_DEADLINE_SEC = 15;

export interface PresenceResult {
  ok: boolean;
  rooms: number;
  converged: number;
  /** Seconds from the last change to a roster that matched, worst room. */
  maxSec: number;
  problems: string[];
}

interface Roster {
  online: Set<string>;
  version: number;
  degraded: boolean;
}

/**
 * The end-of-run presence check: a fifth of each checked room's members go offline (half with
 * DISCONNECT, half by cutting the socket), then a fresh watcher of each room must see exactly the
 * members still connected within PRESENCE_DEADLINE_SEC, following the snapshot and its diffs.
 */
export async function checkPresence(o: {
  url: string;
  rooms: string[];
  membersOf: Map<string, number[]>;
  memberOfUser: Map<number, Member>;
  random: () => number;
  say: (line: string) => void;
}): Promise<PresenceResult> {
  const leaving = new Set<Member>();
  for (const room of o.rooms) {
    const ms = o.membersOf.get(room)!.map((u) => o.memberOfUser.get(u)!);
    const n = Math.max(1, Math.round(ms.length / 5));
    for (const m of ms.sort(() => o.random() - 0.5).slice(0, n)) leaving.add(m);
  }
  await Promise.all([...leaving].map((m, i) => m.leave(i % 2 === 0 ? "disconnect" : "kill")));
  const changedAt = performance.now();
  const wsUrl = `${o.url.replace(/^http/, "ws").replace(/\/$/, "")}/presence`;
  const problems: string[] = [];
  let converged = 0;
  let maxSec = 0;
  await Promise.all(
    o.rooms.map(async (room) => {
      const ms = o.membersOf.get(room)!.map((u) => o.memberOfUser.get(u)!);
      const truth = new Set(ms.filter((m) => m.state === "up").map((m) => m.account.id));
      const watcher = ms[0]!.account;
      const deadline = changedAt + PRESENCE_DEADLINE_SEC * 1000;
      let roster: Roster | undefined;
      let conn: StompConnection | undefined;
      try {
        conn = await StompConnection.connect(wsUrl, watcher.token);
        const seen = new Promise<void>((resolve) => {
          conn!.onFrame = (f) => {
            if (f.command !== "MESSAGE") return;
            const b = JSON.parse(f.body) as {
              type: string;
              version?: number;
              online?: { id: string }[];
              joined?: { id: string }[];
              left?: { id: string }[];
            };
            if (b.type === "snapshot") {
              roster = { online: new Set(b.online!.map((u) => u.id)), version: b.version!, degraded: false };
            } else if (b.type === "degraded" && roster) roster.degraded = true;
            else if (b.type === "diff" && roster) {
              if (b.version !== roster.version + 1)
                problems.push(`${room}: diff version ${b.version} after ${roster.version}`);
              roster.version = b.version!;
              for (const u of b.joined ?? []) roster.online.add(u.id);
              for (const u of b.left ?? []) roster.online.delete(u.id);
            }
            if (roster && same(roster.online, truth)) resolve();
          };
        });
        conn.send("SUBSCRIBE", { id: "p", destination: `/topic/presence/rooms/${room}` });
        const left = deadline - performance.now();
        await Promise.race([seen, Bun.sleep(Math.max(0, left))]);
        const sec = (performance.now() - changedAt) / 1000;
        if (roster && same(roster.online, truth)) {
          converged++;
          maxSec = Math.max(maxSec, sec);
        } else {
          problems.push(
            `${room}: after ${PRESENCE_DEADLINE_SEC}s presence shows ${roster ? roster.online.size : "no snapshot"} online, ${truth.size} connected`,
          );
        }
      } catch (err) {
        problems.push(`${room}: presence watcher failed: ${String(err)}`);
      } finally {
        if (conn) await conn.disconnect(1_000).catch(() => {});
      }
    }),
  );
  const result = {
    ok: converged === o.rooms.length,
    rooms: o.rooms.length,
    converged,
    maxSec: Math.round(maxSec * 10) / 10,
    problems,
  };
  o.say(
    `[loadgen] presence: ${converged}/${o.rooms.length} rooms matched the connected members within ${result.maxSec}s`,
  );
  return result;
}

function same(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
