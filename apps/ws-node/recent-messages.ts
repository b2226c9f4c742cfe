import type { ChatMessage } from "../../lib/chat/message.ts";

/**
 * The last few messages of recently active rooms, as this node received them from the bus. They
 * cover the window between what the backlog writer has stored and what the node has seen, so a
 * replay has no gap while the writer lags. Bounded in rooms (least recently active dropped) and
 * in messages per room.
 */
export class RecentMessages {
  private readonly rooms = new Map<string, ChatMessage[]>();
  /** Latest seq per room: kept for far more rooms than the rings, since it is one number each. */
  private readonly latest = new Map<string, number>();

  constructor(
    private readonly perRoom: number,
    private readonly maxRooms: number,
    private readonly maxLatest = maxRooms * 100,
  ) {}

  push(msg: ChatMessage): void {
    this.latest.delete(msg.roomId);
    if (this.latest.size >= this.maxLatest) {
      const oldest = this.latest.keys().next().value;
      if (oldest !== undefined) this.latest.delete(oldest);
    }
    this.latest.set(msg.roomId, msg.seq);

    let ring = this.rooms.get(msg.roomId);
    if (ring) {
      this.rooms.delete(msg.roomId); // re-insert: Map order is our recency order
    } else {
      ring = [];
      if (this.rooms.size >= this.maxRooms) {
        const oldest = this.rooms.keys().next().value;
        if (oldest !== undefined) this.rooms.delete(oldest);
      }
    }
    ring.push(msg);
    if (ring.length > this.perRoom) ring.shift();
    this.rooms.set(msg.roomId, ring);
  }

  latestSeq(roomId: string): number | undefined {
    return this.latest.get(roomId);
  }

  /** Messages with afterSeq < seq <= uptoSeq that are still held, ascending. */
  between(roomId: string, afterSeq: number, uptoSeq: number): ChatMessage[] {
    return (this.rooms.get(roomId) ?? []).filter((m) => m.seq > afterSeq && m.seq <= uptoSeq);
  }

  /** Lowest seq still held for the room. */
  oldestSeq(roomId: string): number | undefined {
    return this.rooms.get(roomId)?.[0]?.seq;
  }
}
