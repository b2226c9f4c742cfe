import type { AppSession } from "../../lib/stomp/server/app.ts";
import type { ReadPositionWriter } from "./read-positions.ts";
import type { RoomHub, RoomSub } from "./room-hub.ts";

/** A room read up to `seq` by a user, once the connection confirms it received what was sent. */
interface Read {
  roomId: string;
  userId: string;
  seq: number;
  rs?: RoomSub;
}

/**
 * Read positions of `ack:auto` subscriptions move only as far as the client has received. Written to
 * the socket is not enough — a connection that dies (a crashed browser, a network cut, a client that
 * stopped reading) loses what sat in buffers, and a position that had moved past it would make a
 * reconnect without x-since-seq skip those messages. So a connection with new messages is pinged, and
 * the positions move to what had been sent before the ping once its pong comes back. A crash of the
 * node can then replay what was received but not yet confirmed or saved (about a second): duplicates
 * a client drops by `seq`, never a gap.
 */
export interface ConfirmedReadsOptions {
  /**
   * A periodic pass spreads its pings over this long, in slices of `sliceSessions` connections: a ping
   * is a syscall (~7 us here), and five thousand of them at once held the event loop for 35-50 ms once
   * a second, the whole of the chat latency tail at that size. 0 sends them all at once.
   */
  spreadMs?: number;
  sliceSessions?: number;
  /**
   * At most this many connections pinged by one periodic pass; the rest come first in the next. A ping
   * and its pong cost about what a delivery does (a send, a receive, a wake-up): at 5,000 members
   * chatting, one per connection each second was a sixth of the node's CPU and doubled the chat
   * latency tail. Past this many connections with news, each is confirmed less often than once a
   * pass, and a connection that drops uncleanly replays a little more (duplicates, dropped by `seq`).
   */
  maxPingsPerPass?: number;
}

export class ConfirmedReads {
  /** Connections whose confirmation is under way (one at a time each, for the periodic sweep). */
  private readonly confirming = new WeakSet<object>();
  private readonly confirmedUpTo = new WeakMap<RoomSub, number>();
  private readonly spreadMs: number;
  private readonly sliceSessions: number;
  private readonly maxPingsPerPass: number;
  /** Confirmations settled so far (answered, or ended with their connection): a drain's progress. */
  private settled = 0;

  constructor(
    private readonly hub: RoomHub,
    private readonly positions: ReadPositionWriter,
    options: ConfirmedReadsOptions = {},
  ) {
    this.spreadMs = options.spreadMs ?? 0;
    this.sliceSessions = Math.max(1, options.sliceSessions ?? 200);
    this.maxPingsPerPass = Math.max(1, options.maxPingsPerPass ?? Number.POSITIVE_INFINITY);
  }

  /**
   * Asks every connection with live auto-ack subscriptions that have received new messages to confirm
   * them; resolves when all have answered or ended. Only rooms that got something since the last pass
   * are visited (the hub keeps them), so a pass costs what changed, not every subscription on the node.
   * `all` visits every room and asks those already asked too (a drain wants the latest answer, not an
   * older one) and asks them all at once; a periodic pass spreads its pings (`spreadMs`) and sends at
   * most `maxPingsPerPass`.
   */
  confirmAll(all = false): Promise<void> {
    const bySession = new Map<AppSession<unknown>, Read[]>();
    const visit = (roomId: string, subs: Iterable<RoomSub>) => {
      const latest = this.hub.latestSeq(roomId);
      for (const rs of subs) {
        if (rs.sub.ack !== "auto") continue;
        // A live subscription was sent all the node has seen; one still replaying, what its replay has
        // sent so far (a drain mid-replay must save that too, or the reconnect repeats all of it).
        const sent = rs.mode === "live" ? latest : rs.lastSent;
        if (sent === undefined || sent <= (this.confirmedUpTo.get(rs) ?? 0)) continue;
        if (!all && this.confirming.has(rs.session)) {
          // Its connection is still answering an earlier ping: this room comes up again next pass.
          this.hub.markChanged(roomId);
          continue;
        }
        const reads = bySession.get(rs.session) ?? [];
        reads.push({ roomId, userId: rs.userId, seq: sent, rs });
        bySession.set(rs.session, reads);
      }
    };
    if (all) {
      this.hub.takeChanged();
      for (const [roomId, room] of this.hub.localRooms()) visit(roomId, room.subs);
    } else {
      // Once the pass has its fill of connections, the other rooms wait for the next one unvisited: a
      // visit costs a few lookups per subscriber, ~5 ms for 5,000 of them.
      for (const roomId of this.hub.takeChanged()) {
        if (bySession.size >= this.maxPingsPerPass) this.hub.markChanged(roomId);
        else visit(roomId, this.hub.subsOf(roomId));
      }
    }
    const asks = [...bySession];
    if (!all && asks.length > this.maxPingsPerPass) {
      // Marked again after the pass took the changed set, so they lead the next pass's visit order.
      for (const [, reads] of asks.splice(this.maxPingsPerPass))
        for (const r of reads) this.hub.markChanged(r.roomId);
    }
    // Counted as under way from now, so the next pass skips a connection whose slice has not come yet.
    for (const [session] of asks) this.confirming.add(session);
    const slices = Math.ceil(asks.length / this.sliceSessions);
    if (all || this.spreadMs <= 0 || slices <= 1) {
      return Promise.all(asks.map(([session, reads]) => this.confirm(session, reads))).then(() => {});
    }
    const step = this.spreadMs / slices;
    const done: Promise<void>[] = [];
    for (let i = 0; i < slices; i++) {
      const slice = asks.slice(i * this.sliceSessions, (i + 1) * this.sliceSessions);
      done.push(
        Bun.sleep(i * step).then(() =>
          Promise.all(slice.map(([session, reads]) => this.confirm(session, reads))).then(() => {}),
        ),
      );
    }
    return Promise.all(done).then(() => {});
  }

  /**
   * A drain's confirmation: asks every connection at once (confirmAll(true)) and waits while answers
   * keep coming — until all are in, none has come for `quietMs` (a client that does not answer
   * replays the rest), or `maxMs` has passed. Quiet, not a fixed deadline: on a loaded machine a
   * process may not run for a while, and then finds its timer and the answers due together.
   */
  async drain(quietMs: number, maxMs: number): Promise<void> {
    let done = false;
    const all = this.confirmAll(true).then(() => {
      done = true;
    });
    const start = performance.now();
    let seen = this.settled;
    let quietFrom = start;
    while (!done) {
      await Promise.race([all, Bun.sleep(Math.min(50, quietMs))]);
      if (done) return;
      if (this.settled !== seen) {
        seen = this.settled;
        quietFrom = performance.now();
        continue;
      }
      const now = performance.now();
      if (now - start >= maxMs) return;
      if (now - quietFrom < quietMs) continue;
      // One more turn for answers that are already in the sockets, before giving up on them.
      await Bun.sleep(1);
      if (this.settled === seen) return;
      seen = this.settled;
      quietFrom = performance.now();
    }
  }

  /** Moves the positions once the connection confirms it received everything sent so far. */
  async confirm(session: AppSession<unknown>, reads: Read[]): Promise<void> {
    this.confirming.add(session);
    const received = await session.confirmReceived();
    this.confirming.delete(session);
    this.settled++;
    if (!received) return;
    for (const r of reads) {
      this.positions.advance(r.roomId, r.userId, r.seq);
      if (r.rs) this.confirmedUpTo.set(r.rs, Math.max(r.seq, this.confirmedUpTo.get(r.rs) ?? 0));
    }
  }
}
