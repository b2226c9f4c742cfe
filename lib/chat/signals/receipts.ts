import type { RoomSignal } from "../../signals/types.ts";
import type { SignalBody, SignalKind, SignalState } from "./kind.ts";

/** One member's read position, as receipts carry it. */
export interface ReadPosition {
  userId: string;
  seq: number;
}

/**
 * Read receipts: how far each member has read, for "seen by". Nodes publish a member's read position
 * when they save it (at most once a second per member, coalesced), flagged `shared: false` when the
 * member turned receipts off. Subscribers of `/topic/rooms/<id>/receipts` first get every sharing
 * member's position from the store, then `{type: "receipts", roomId, positions: [{userId, seq}]}` with
 * the positions that moved, at most once a second per room. Clients do not send receipts: reading is
 * what moves them.
 */
export const receipts: SignalKind = {
  name: "receipts",
  refreshMs: 0,
  flushMs: 1_000,
  newState(roomId) {
    return new ReceiptsState(roomId);
  },
  async snapshot(c, _actor, roomId) {
    const positions = await c.ports.rooms.readPositionsIn(roomId);
    const hidden = await c.ports.users.withoutReadReceipts([...positions.keys()]);
    const shown = [...positions].filter(([userId]) => !hidden.has(userId));
    return receiptsBody(
      roomId,
      shown.map(([userId, seq]) => ({ userId, seq })),
    );
  },
};

const receiptsBody = (roomId: string, positions: ReadPosition[]): SignalBody => ({
  type: "receipts",
  roomId,
  positions,
});

class ReceiptsState implements SignalState {
  /** Positions that moved since the last flush, by user. */
  private moved = new Map<string, number>();

  constructor(private readonly roomId: string) {}

  apply(s: RoomSignal): boolean {
    const seq = s.data.seq;
    if (s.data.shared === false || typeof seq !== "number") return false;
    if ((this.moved.get(s.userId) ?? -1) >= seq) return false;
    this.moved.set(s.userId, seq);
    return true;
  }

  tick(): boolean {
    return false;
  }

  onRoomEvent(): boolean {
    return false;
  }

  flush(): SignalBody | undefined {
    if (this.moved.size === 0) return undefined;
    const positions = [...this.moved].map(([userId, seq]) => ({ userId, seq }));
    this.moved = new Map();
    return receiptsBody(this.roomId, positions);
  }

  current(): SignalBody | undefined {
    return undefined;
  }
}
