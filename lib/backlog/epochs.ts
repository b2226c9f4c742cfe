import type { LoggedMessage } from "../chat/message.ts";
import type { Logger } from "../log/index.ts";
import type { Backlog } from "./types.ts";

/**
 * A room's stored history came from another bus log than the one its messages come from now: a Kafka
 * topic or bus.db created anew restarts seqs, so new messages would collide with (and be dropped as
 * duplicates of) stored ones, and read positions would skip them.
 */
export class LogEpochError extends Error {
  override readonly name = "LogEpochError";
  constructor(
    readonly roomId: string,
    readonly storedEpoch: string,
    readonly busEpoch: string,
  ) {
    super(
      `room ${roomId}: its history came from message log ${storedEpoch}, but the bus is now log ${busEpoch} ` +
        "(a Kafka topic or bus.db created anew?); its seqs would collide",
    );
  }
}

/**
 * Keeps each room's history to one bus log: the first write of a room records its epoch in the
 * backlog, and every later write and every replay must match it. A mismatch is never silent: it is
 * logged as an error, counted (`conflicts`, for metrics), and the write or replay is refused — the
 * bus keeps the messages, and the backlog writer retries until an operator reconciles the room.
 */
export class EpochCheck {
  conflicts = 0;
  /** Rooms whose epoch this process has already seen in the backlog, so writes cost no lookup. */
  private readonly known = new Map<string, string>();

  constructor(
    private readonly backlog: Pick<Backlog, "epochs" | "claimEpoch">,
    private readonly log: Logger,
    private readonly maxKnown = 100_000,
  ) {}

  /** Before a batch is appended: each room's messages come from the log its history came from. */
  async beforeWrite(batch: readonly LoggedMessage[]): Promise<void> {
    const wanted = new Map<string, string>();
    for (const m of batch) {
      const first = wanted.get(m.roomId);
      if (first === undefined) wanted.set(m.roomId, m.epoch);
      else if (first !== m.epoch) this.conflict(m.roomId, first, m.epoch, "write");
    }
    const unknown = [...wanted].filter(([roomId, epoch]) => this.known.get(roomId) !== epoch);
    if (unknown.length === 0) return;
    const stored = await this.backlog.epochs(unknown.map(([roomId]) => roomId));
    for (const [roomId, epoch] of unknown) {
      const has = stored.get(roomId) ?? (await this.backlog.claimEpoch(roomId, epoch));
      if (has !== epoch) this.conflict(roomId, has, epoch, "write");
      this.remember(roomId, epoch);
    }
  }

  /** The backlog records `epoch` for the room. */
  private remember(roomId: string, epoch: string): void {
    if (this.known.size >= this.maxKnown) this.known.clear();
    this.known.set(roomId, epoch);
  }

  /**
   * Before a replay: the room's stored history, if any, comes from the log the bus uses for it now.
   * A match is remembered, so replays of a room cost one lookup per process, not one each.
   */
  async beforeReplay(roomId: string, busEpoch: string): Promise<void> {
    if (this.known.get(roomId) === busEpoch) return;
    const stored = (await this.backlog.epochs([roomId])).get(roomId);
    if (stored === undefined) return;
    if (stored !== busEpoch) this.conflict(roomId, stored, busEpoch, "replay");
    this.remember(roomId, busEpoch);
  }

  private conflict(roomId: string, storedEpoch: string, busEpoch: string, during: "write" | "replay"): never {
    this.conflicts++;
    this.log("error", "a room's history belongs to another message log; refused", {
      roomId,
      storedEpoch,
      busEpoch,
      during,
    });
    throw new LogEpochError(roomId, storedEpoch, busEpoch);
  }
}
