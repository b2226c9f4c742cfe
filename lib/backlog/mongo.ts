import {
  type Db,
  MongoClient,
  type MongoClientOptions,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";
import { indexedLayout } from "./mongo-indexed.ts";
import { pagedLayout } from "./mongo-paged.ts";
import type { BacklogLayout } from "./mongo-support.ts";
import type { Backlog } from "./types.ts";

/**
 * A call whose connection has been silent this long fails (and that connection is closed) rather than
 * wait forever: the driver's default is no limit, so a stalled network path held a replay — and the
 * backlog writer's partitions — for as long as it lasted, and past it. Far above any answer seen here
 * (a page: 50-250 ms; a write of 500 messages: about 1 s at load 17, and a chunk of 2,000 is written
 * room by room, one call per room).
 */
export const BACKLOG_SOCKET_TIMEOUT_MS = 10_000;
/** A new connection's handshake gets this long (the driver's default, 30 s, is paid again on each retry). */
export const BACKLOG_CONNECT_TIMEOUT_MS = 5_000;
/**
 * A client that has found no server for this long is replaced by a fresh one. The driver normally
 * reconnects by itself, but after a connection was cut off mid-call the fault suite saw one client
 * answer "server selection" errors for minutes while the server served every other process.
 */
export const BACKLOG_REPLACE_AFTER_MS = 15_000;

/** How messages are laid out in the database: the reads differ, the behaviour does not. */
export type MongoLayout = "indexed" | "paged";

export interface MongoBacklogOptions {
  client?: MongoClientOptions;
  /** Forced layout (tests, benchmarks); by default it follows the server (see pickLayout). */
  layout?: MongoLayout;
  /** How long a client may find no server before it is replaced (BACKLOG_REPLACE_AFTER_MS). */
  replaceAfterMs?: number;
  /** Told when a client is replaced, and why (logged by the process). */
  onReplace?: (reason: "closed" | "unreachable") => void;
  /** Messages per page of the paged layout (small in tests to cross page boundaries cheaply). */
  pageSize?: number;
}

/**
 * The MongoDB backlog. Two layouts with one contract (lib/backlog/contract.ts runs both):
 * - "indexed" (real MongoDB, FerretDB v2+): one `messages` collection with a unique {roomId, seq}
 *   index, so every read is an index range: O(log N + page).
 * - "paged" (FerretDB v1): v1 serves no range, sort or limit from an index — every query is a scan
 *   of the collection's table with equality filters at best (README, "Missed messages") — so each room
 *   gets its own collection, numbered in pages that an equality filter fetches (mongo-paged.ts).
 * The client connects lazily, so a database that is down at start makes calls fail (and the backlog
 * writer retry) rather than the process exit. The driver closes a client whose first connection failed
 * and never opens it again ("Topology is closed" on every later call: a ws-node restarted while FerretDB
 * was down never wrote another message), so such a client is replaced by a fresh one; so is one that
 * has found no server for BACKLOG_REPLACE_AFTER_MS.
 */
export function createMongoBacklog(url: string, dbName: string, options: MongoBacklogOptions = {}): Backlog {
  const replaceAfterMs = options.replaceAfterMs ?? BACKLOG_REPLACE_AFTER_MS;
  const connect = () => {
    const client = new MongoClient(url, {
      serverSelectionTimeoutMS: 5_000,
      socketTimeoutMS: BACKLOG_SOCKET_TIMEOUT_MS,
      connectTimeoutMS: BACKLOG_CONNECT_TIMEOUT_MS,
      ...options.client,
    });
    const db = client.db(dbName);
    let chosen: Promise<BacklogLayout> | undefined;
    const layout = (): Promise<BacklogLayout> => {
      chosen ??= (async () => {
        const kind = options.layout ?? (await pickLayout(db));
        return kind === "paged" ? pagedLayout(db, options.pageSize) : indexedLayout(db);
      })().catch((err) => {
        chosen = undefined;
        throw err;
      });
      return chosen;
    };
    /** Since when this client has found no server (undefined while calls succeed). */
    const state = { unreachableSince: undefined as number | undefined };
    return { client, db, layout, state };
  };
  let current = connect();
  let closed = false;

  /** Why the client that failed should be replaced, if it should. */
  const replacing = (c: ReturnType<typeof connect>, err: unknown): "closed" | "unreachable" | undefined => {
    if (err instanceof MongoTopologyClosedError) return "closed";
    if (!(err instanceof MongoServerSelectionError)) return undefined;
    const now = performance.now();
    c.state.unreachableSince ??= now;
    return now - c.state.unreachableSince >= replaceAfterMs ? "unreachable" : undefined;
  };

  /** Runs a call on the current client; once more on a fresh one if the driver had closed it or is stuck. */
  const withClient = async <T>(call: (c: ReturnType<typeof connect>) => Promise<T>): Promise<T> => {
    const used = current;
    try {
      const result = await call(used);
      used.state.unreachableSince = undefined;
      return result;
    } catch (err) {
      const reason = closed ? undefined : replacing(used, err);
      if (!reason) throw err;
      if (current === used) {
        current = connect();
        options.onReplace?.(reason);
        void used.client.close().catch(() => undefined);
      }
      return call(current);
    }
  };
  const withLayout = <T>(call: (layout: BacklogLayout) => Promise<T>) =>
    withClient(async (c) => call(await c.layout()));

  return {
    // FerretDB answers a page of 200 in ~50 ms, half of it fixed cost: halving pages there only adds queries.
    pageReadTargetMs: 100,
    async append(batch) {
      if (batch.length > 0) await withLayout((l) => l.append(batch));
    },
    after: (roomId, afterSeq, limit) => withLayout((l) => l.after(roomId, afterSeq, limit)),
    before: (roomId, beforeSeq, limit) => withLayout((l) => l.before(roomId, beforeSeq, limit)),
    async countsAfter(positions, cap) {
      if (positions.size === 0) return new Map();
      return withLayout((l) => l.countsAfter(positions, cap));
    },
    async unreadCounts(reader, positions, cap) {
      if (positions.size === 0) return new Map();
      return withLayout((l) => l.unreadCounts(reader, positions, cap));
    },
    lastSeq: (roomId) => withLayout((l) => l.lastSeq(roomId)),
    async epochs(roomIds) {
      if (roomIds.length === 0) return new Map();
      return withLayout((l) => l.epochs(roomIds));
    },
    claimEpoch: (roomId, epoch) => withLayout((l) => l.claimEpoch(roomId, epoch)),
    async ping() {
      await withClient((c) => c.db.command({ ping: 1 }));
    },
    async close() {
      closed = true;
      await current.client.close();
    },
  };
}

/** FerretDB names itself in buildInfo; its v1 gets the paged layout, anything else the indexed one. */
export async function pickLayout(db: Db): Promise<MongoLayout> {
  const info = await db.command({ buildInfo: 1 });
  const ferret = info.ferretdbVersion;
  return typeof ferret === "string" && /^v?1\./.test(ferret) ? "paged" : "indexed";
}
