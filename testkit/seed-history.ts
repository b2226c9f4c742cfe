import type { Backlog } from "../lib/backlog/types.ts";
import type { ChatMessage, UserRef } from "../lib/chat/message.ts";

const BATCH = 5_000;

/**
 * Writes `count` messages of one room straight into the backlog (seq 1..count, no bus), as a long
 * history would look, fast enough for a test: 50,000 messages take well under a second on SQLite.
 * Live messages in such a room would be numbered below its history (the bus never saw these seqs),
 * so tests only replay it. (scripts/seed-backlog, on the `ferret` branch, does this at scale.)
 */
export async function seedRoomHistory(
  backlog: Backlog,
  roomId: string,
  sender: UserRef,
  count: number,
): Promise<void> {
  const start = Date.UTC(2025, 0, 1);
  for (let from = 0; from < count; from += BATCH) {
    const batch: ChatMessage[] = [];
    for (let i = from; i < Math.min(count, from + BATCH); i++) {
      batch.push({
        id: Bun.randomUUIDv7("hex", start + i * 1_000),
        roomId,
        seq: i + 1,
        type: "message",
        sender,
        text: `seeded history #${i}: lorem ipsum dolor sit amet, consectetur adipiscing elit`,
        sentAt: new Date(start + i * 1_000).toISOString(),
      });
    }
    await backlog.append(batch);
  }
}
