import { type EpochCheck, LogEpochError } from "../../lib/backlog/epochs.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import type { MessageBus } from "../../lib/bus/types.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";
import type { Logger } from "../../lib/log/index.ts";
import { errorFields } from "../../lib/log/index.ts";
import type { RoomHub, RoomSub } from "./room-hub.ts";

export interface ReplayDeps {
  hub: RoomHub;
  backlog: Backlog;
  bus: Pick<MessageBus, "caughtUp" | "epochOf">;
  epochs: EpochCheck;
  log: Logger;
}

export interface ReplayOptions {
  pageSize: number;
  /** How long to wait for this node's bus reader to reach what was published before the subscription. */
  waitForBusMs: number;
  /** How long to wait for a lagging backlog writer before falling back to the node's recent messages. */
  waitForBacklogMs: number;
  /** Pause between pages while the client's unsent data is above this many bytes. */
  pauseAboveBytes: number;
}

/**
 * Sends a new subscription everything after `since`, then hands it over to live delivery, with no gap
 * and no duplicate: missed messages come from the backlog; what the backlog writer has not stored yet
 * comes from the node's recent messages; messages arriving meanwhile are held by the hub and sent
 * after. Missed ones carry `x-replay: true`.
 */
export async function replayInto(
  rs: RoomSub,
  since: number,
  { hub, backlog, bus, epochs, log }: ReplayDeps,
  opts: ReplayOptions,
): Promise<void> {
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
  const seenAtStart = hub.latestSeq(roomId) ?? 0;
  // A client may ask for more than exists (x-since-seq from another room, a stale tab): start at most
  // from the room's end, or live messages would be skipped as already sent.
  let backlogDown = false;
  const backlogLast = await backlog.lastSeq(roomId).catch(() => {
    backlogDown = true;
    return 0;
  });
  // Published before this subscription began: those are the missed ones (x-replay).
  const missedUpTo = Math.max(seenAtStart, backlogLast);
  rs.lastSent = Math.min(since, missedUpTo);
  // Sends one message, then waits while the client's unsent data is high, so a long replay never
  // trips the send-buffer limit that cuts off slow consumers.
  const send = async (m: ChatMessage, missed: boolean) => {
    hub.sendTo(rs, m, missed);
    if (rs.session.ws.getBufferedAmount() > opts.pauseAboveBytes)
      await pauseWhileBuffered(rs, opts.pauseAboveBytes);
  };
  const deadline = performance.now() + opts.waitForBacklogMs;
  while (!backlogDown) {
    let page: ChatMessage[];
    try {
      page = await backlog.after(roomId, rs.lastSent, opts.pageSize);
    } catch (err) {
      // Chat goes on without the backlog: recent messages still cover what this node saw.
      log("warn", "backlog unavailable during replay", { roomId, ...errorFields(err) });
      backlogDown = true;
      break;
    }
    if (!live(rs)) return;
    for (const m of page) {
      if (m.seq <= rs.lastSent) continue;
      await send(m, m.seq <= missedUpTo);
      if (!live(rs)) return;
    }
    if (page.length === opts.pageSize) continue;
    // The backlog is complete up to what this node had seen, or the writer lags behind it.
    if (rs.lastSent >= seenAtStart || performance.now() >= deadline) break;
    await Bun.sleep(25);
  }
  if (rs.lastSent < seenAtStart) {
    const gap = hub.recent.between(roomId, rs.lastSent, seenAtStart);
    const oldest = hub.recent.oldestSeq(roomId);
    const reachesBack = gap.length > 0 && oldest !== undefined && oldest <= rs.lastSent + 1;
    for (const m of gap) if (m.seq > rs.lastSent) await send(m, true);
    if (!reachesBack) incomplete(rs, log, seenAtStart);
  } else if (backlogDown && since < seenAtStart) {
    incomplete(rs, log, seenAtStart);
  }
  // Held messages keep arriving while we wait on the client; the loop ends only when none is left,
  // and nothing can arrive between its last check and going live.
  for (let i = 0; i < rs.held.length; i++) {
    if (!live(rs)) return;
    const m = rs.held[i]!;
    if (m.seq > rs.lastSent) await send(m, m.seq <= missedUpTo);
  }
  if (!live(rs)) return;
  hub.endReplay(rs);
}

/** Some missed messages could not be loaded: say so rather than leave a silent gap. */
function incomplete(rs: RoomSub, log: Logger, upTo: number): void {
  log("warn", "replay incomplete", { roomId: rs.roomId, lastSent: rs.lastSent, upTo });
  rs.session.notify("replay_incomplete", "some missed messages could not be loaded; see the room history", {
    subscription: rs.sub.id,
    roomId: rs.roomId,
  });
}

function live(rs: RoomSub): boolean {
  return rs.session.state === "connected" && rs.session.subscriptions.get(rs.sub.id) === rs.sub;
}

async function pauseWhileBuffered(rs: RoomSub, limit: number): Promise<void> {
  for (let i = 0; i < 200 && live(rs) && rs.session.ws.getBufferedAmount() > limit; i++) await Bun.sleep(10);
}
