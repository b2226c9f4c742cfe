/**
 * Presence on Redis (node-redis v6). Design:
 *
 * Roster. Each messaging node reports (room, user, connection) entries. Redis keeps, under a prefix P:
 *   P room:<r>:count      hash userId → connections in the room, over all nodes (online = present)
 *   P room:<r>:names      hash userId → username, for the same users
 *   P node:<n>:entries    set of JSON [room, user, connection]: the node's own record, so a dead
 *                         node's share can be taken out again
 *   P node:<n>:alive      heart-beat key, PX = node TTL (default 10 s), refreshed every TTL/3
 *   P nodes               set of node ids that have entries
 * Lua scripts (redis-scripts.ts) change these atomically. A user going 0 → 1 or 1 → 0 connections in
 * a room is an effective change: the user joins P room:<r>:pending and the room joins the sorted set
 * P dirty, scored with the time of its first pending change (ZADD NX, Redis TIME).
 *
 * Versions and coalescing, in one place. Diffs are not made by the nodes that see changes but by the
 * FLUSH script: it takes each room whose first pending change is at least `coalesceMs` old, compares
 * the pending users with the published roster (P room:<r>:published), updates it, INCRs
 * P room:<r>:version and PUBLISHes the diff on P diff:<r> — all in one atomic script. Every presence
 * node runs FLUSH every ~50 ms; whichever runs first does the work, and because the script is
 * atomic no lock is needed and there is exactly one diff per version. Presence nodes only relay what
 * they receive on P diff:<r>, so all replicas deliver the same sequence. A change waits at most
 * coalesceMs + the flush interval; churn within that window (join then leave) cancels out.
 *
 * Snapshot alignment. A view SUBSCRIBEs to P diff:<r> first, then reads the published roster and its
 * version in one script; diffs arriving meanwhile are held and those above the snapshot's version
 * applied (feed.ts). A diff published before the subscription was made is already in the snapshot.
 *
 * Dead nodes. SWEEP (run by views every `sweepEveryMs` and by reporters with each heart-beat) drops
 * every node whose alive key has expired, decrementing its entries: users go offline within
 * TTL + sweep interval + coalesce window (≈ 12.3 s by default).
 *
 * Redis down. Reporters never throw or wait: they keep their node's entries locally
 * (LocalSubscriptions) and, on every (re)connect or after any failed command, RESYNC replaces the
 * node's record with that local state, so nothing is queued. A heart-beat that finds the node already
 * given up for dead resyncs the same way. Views check health every second (PING with a timeout on
 * the command client, and a message published to themselves that must come back through the pub/sub
 * client, which catches a pub/sub connection that hangs after a network drop); on failure watchers get
 * "degraded", the pub/sub client is replaced, and once Redis answers again every watched room is
 * reloaded and watchers get a fresh snapshot. No process restarts.
 */
export { DEFAULT_PREFIX } from "./redis-client.ts";
export { RedisPresenceReporter, type RedisReporterOptions } from "./redis-reporter.ts";
export { RedisPresenceView, type RedisViewOptions } from "./redis-view.ts";
