import { type EpochCheck, LogEpochError } from "../../lib/backlog/epochs.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import type { MessageBus } from "../../lib/bus/types.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";
import type { Logger } from "../../lib/log/index.ts";
import { errorFields } from "../../lib/log/index.ts";
import { type PageSizeOptions, PageSizer } from "./page-size.ts";
import type { ReplayGate, ReplayTicket } from "./replay-gate.ts";
import type { RoomHub, RoomSub } from "./room-hub.ts";

export interface ReplayDeps {
  hub: RoomHub;
  backlog: Backlog;
  bus: Pick<MessageBus, "caughtUp" | "epochOf">;
  epochs: EpochCheck;
  log: Logger;
  stats: ReplayStats;
  gate: Pick<ReplayGate, "pace">;
}

export interface ReplayOptions {
  /** Backlog page sizes: a replay starts at `initial` and adapts to how long a page takes (PageSizer). */
  page: PageSizeOptions;
  /** How long to wait for this node's bus reader to reach what was published before the subscription. */
  waitForBusMs: number;
  /** How long to wait for a lagging backlog writer when memory does not hold the rest either. */
  waitForBacklogMs: number;
  /** Pause between messages while the client's unsent data is above this many bytes. */
  pauseAboveBytes: number;
}

/** Replays by where they came from, for metrics: memory hits, backlog reads, nothing missed. */
export interface ReplayStats {
  memory: number;
  store: number;
  none: number;
  incomplete: number;
}

export const newReplayStats = (): ReplayStats => ({ memory: 0, store: 0, none: 0, incomplete: 0 });

/**
 * Sends a new subscription everything after `since`, then hands it over to live delivery, with no gap
 * and no duplicate. The end is fixed first: once this node's bus reader has caught up, the room's
 * latest seq it has seen is everything published before the subscription. The missed range comes
 * from the node's recent messages when they cover it (no backlog read), else from the backlog — and
 * from memory again as soon as the rest is there. Live messages arriving meanwhile are held by the hub
 * (bounded) and sent in one go once the end is reached, so live traffic never prolongs a replay.
 * Missed messages carry `x-replay: true`.
 */
export async function replayInto(
  rs: RoomSub,
  since: number,
  ticket: ReplayTicket,
  d: ReplayDeps,
  opts: ReplayOptions,
): Promise<void> {
  const { hub, backlog, bus, epochs, log, stats, gate } = d;
  const roomId = rs.roomId;
  // Stored seqs and read positions mean nothing in another log: refuse rather than skip or mix.
  // A backlog that cannot answer is handled below, as for any read.
  await epochs.beforeReplay(roomId, bus.epochOf(roomId)).catch((err: unknown) => {
    if (err instanceof LogEpochError) throw err;
  });
  // This node's reader may lag the replica that took the latest SENDs; once it has caught up, what
  // it has seen is everything published before this subscription, which all counts as missed.
  await bus.caughtUp(roomId, opts.waitForBusMs).catch((err) => {
    // Still correct without it (those messages arrive live, unmarked); say why they were not marked.
    log("warn", "bus reader behind at subscribe", { roomId, ...errorFields(err) });
  });
  if (!live(rs)) return;
  // The fixed end. A room this node has not seen since it started: its end is what the backlog holds.
  let backlogDown = false;
  const target =
    hub.latestSeq(roomId) ??
    (await ticket
      .read(() => backlog.lastSeq(roomId))
      .catch(() => {
        backlogDown = true;
        return 0;
      }));
  if (!live(rs)) return;
  // A client may ask for more than exists (x-since-seq from another room, a stale tab): start at most
  // from the room's end, or live messages would be skipped as already sent.
  rs.lastSent = Math.min(since, target);
  const send = async (m: ChatMessage) => {
    const paced = ticket.spend(hub.sendTo(rs, m, true));
    if (paced) await paced;
    // Wait while the client's unsent data is high, so a long replay never trips the send-buffer
    // limit that cuts off slow consumers.
    if (rs.session.ws.getBufferedAmount() > opts.pauseAboveBytes) await pauseWhileBuffered(rs, opts);
    // However fast the client reads, replays share the event loop in slices (see ReplayGate.pace).
    const turn = gate.pace();
    if (turn) await turn;
  };
  const fromMemory = async () => {
    for (const m of hub.recent.between(roomId, rs.lastSent, target)) {
      await send(m);
      if (!live(rs)) return;
    }
    rs.lastSent = target;
  };

  if (backlogDown) {
    // Neither memory nor the backlog knows where the room ends.
    incomplete(rs, d, target);
  } else if (rs.lastSent >= target) {
    stats.none++;
  } else if (hub.recent.covers(roomId, rs.lastSent)) {
    stats.memory++;
    await fromMemory();
  } else {
    stats.store++;
    await fromBacklog(rs, target, ticket, send, fromMemory, d, opts);
    if (live(rs) && rs.lastSent < target) incomplete(rs, d, target);
  }
  if (!live(rs)) return;
  // What arrived meanwhile goes out in one go and the subscription goes live in the same turn, so
  // nothing can arrive in between. The hold is bounded in bytes by about the pause threshold, so it
  // fits in the send buffer once the replay's part has drained.
  if (rs.session.ws.getBufferedAmount() > opts.pauseAboveBytes) await pauseWhileBuffered(rs, opts);
  if (!live(rs)) return;
  for (const m of rs.held) if (m.seq > rs.lastSent) hub.sendTo(rs, m, m.seq <= target);
  hub.endReplay(rs);
}

/** Pages the backlog from `rs.lastSent` up to `target`, switching to memory once it holds the rest. */
async function fromBacklog(
  rs: RoomSub,
  target: number,
  ticket: ReplayTicket,
  send: (m: ChatMessage) => Promise<void>,
  fromMemory: () => Promise<void>,
  { hub, backlog, log }: ReplayDeps,
  opts: ReplayOptions,
): Promise<void> {
  const roomId = rs.roomId;
  const deadline = performance.now() + opts.waitForBacklogMs;
  const sizer = new PageSizer(opts.page);
  while (live(rs) && rs.lastSent < target) {
    if (hub.recent.covers(roomId, rs.lastSent)) return fromMemory();
    let page: ChatMessage[];
    let took = 0;
    const size = sizer.next;
    try {
      // In its turn; a subscription that ended while waiting reads nothing.
      page = await ticket.read(async () => {
        if (!live(rs)) return [];
        const started = performance.now();
        const rows = await backlog.after(roomId, rs.lastSent, size);
        took = performance.now() - started;
        return rows;
      });
    } catch (err) {
      log("warn", "backlog unavailable during replay", { roomId, ...errorFields(err) });
      return;
    }
    sizer.record(size, page.length, took);
    for (const m of page) {
      if (!live(rs)) return;
      if (m.seq > target) {
        // Everything the backlog holds up to the end has been sent.
        rs.lastSent = target;
        return;
      }
      if (m.seq > rs.lastSent) await send(m);
    }
    if (page.length === size) continue;
    // The backlog ends before the target: its writer lags. Memory may hold the rest (checked at the
    // top); otherwise wait a little for the writer.
    if (performance.now() >= deadline) return;
    if (!hub.recent.covers(roomId, rs.lastSent)) await Bun.sleep(25);
  }
}

/** Some missed messages could not be loaded: say so rather than leave a silent gap. */
function incomplete(rs: RoomSub, { log, stats }: ReplayDeps, upTo: number): void {
  stats.incomplete++;
  log("warn", "replay incomplete", { roomId: rs.roomId, lastSent: rs.lastSent, upTo });
  rs.session.notify("replay_incomplete", "some missed messages could not be loaded; see the room history", {
    subscription: rs.sub.id,
    roomId: rs.roomId,
  });
}

function live(rs: RoomSub): boolean {
  return rs.session.state === "connected" && rs.session.subscriptions.get(rs.sub.id) === rs.sub;
}

async function pauseWhileBuffered(rs: RoomSub, opts: ReplayOptions): Promise<void> {
  for (let i = 0; i < 200 && live(rs) && rs.session.ws.getBufferedAmount() > opts.pauseAboveBytes; i++) {
    await Bun.sleep(10);
  }
}
