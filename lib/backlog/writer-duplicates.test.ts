import { describe, expect, test } from "bun:test";
import type { LoggedMessage } from "../chat/message.ts";
import { createSqliteBacklog } from "./sqlite.ts";
import { WriterDuplicates } from "./writer-duplicates.ts";

const T0 = Date.UTC(2026, 0, 1);
const rule = { windowMs: 60_000, maxKeys: 1_000 };

function logged(seq: number, clientMsgId: string | undefined, atMs: number, roomId = "r1"): LoggedMessage {
  const m: LoggedMessage = {
    id: `m${seq}`,
    roomId,
    seq,
    type: "message",
    sender: { id: "u1", username: "mina" },
    text: `t${seq}`,
    sentAt: new Date(T0 + atMs).toISOString(),
    epoch: "log-1",
  };
  if (clientMsgId !== undefined) m.clientMsgId = clientMsgId;
  return m;
}

/** The SQLite backlog, counting its `before` reads (the writer's recalls). */
function countingBacklog() {
  const backlog = createSqliteBacklog(":memory:");
  const reads: string[] = [];
  const before = backlog.before;
  backlog.before = (roomId, beforeSeq, limit) => {
    reads.push(`${roomId}<${beforeSeq}`);
    return before(roomId, beforeSeq, limit);
  };
  return { backlog, reads };
}

const seqs = (list: LoggedMessage[]) => list.map((m) => m.seq);

describe("WriterDuplicates", () => {
  test("a batch keeps the first copy of each client message", async () => {
    const { backlog } = countingBacklog();
    const w = new WriterDuplicates(backlog, rule);
    const kept = await w.keep([
      logged(1, "a", 0),
      logged(2, undefined, 1),
      logged(3, "a", 2),
      logged(4, "b", 3),
    ]);
    expect(seqs(kept)).toEqual([1, 2, 4]);
    expect(w.dropped).toBe(1);
  });

  test("a writer that takes over recalls the window from the backlog and judges as the first did", async () => {
    const { backlog, reads } = countingBacklog();
    const first = new WriterDuplicates(backlog, rule);
    await backlog.append(await first.keep([logged(1, "a", 0), logged(2, "b", 10)]));
    // A fresh writer (a restart, a partition moved here): the backlog tells it about 1 and 2.
    const next = new WriterDuplicates(backlog, rule);
    const kept = await next.keep([logged(3, "a", 1_000), logged(4, "c", 1_001), logged(5, "b", 70_000)]);
    // 3 retries 1 (within the window); 5 is 70 s after 2: a new message.
    expect(seqs(kept)).toEqual([4, 5]);
    expect(reads).toEqual(["r1<1", "r1<3"]);
  });

  test("a room followed without a break is not read again; after a gap in the log it is", async () => {
    const { backlog, reads } = countingBacklog();
    const w = new WriterDuplicates(backlog, rule);
    await backlog.append(await w.keep([logged(1, "a", 0), logged(2, "b", 1)]));
    await backlog.append(await w.keep([logged(3, "c", 2), logged(4, "a", 3)]));
    expect(reads).toEqual(["r1<1"]);
    // The same batch again (a retried write) follows on too.
    expect(seqs(await w.keep([logged(3, "c", 2), logged(4, "a", 3)]))).toEqual([3]);
    expect(reads).toEqual(["r1<1"]);
    // Seqs 5..9 went to another writer meanwhile: recall.
    expect(seqs(await w.keep([logged(10, "d", 20)]))).toEqual([10]);
    expect(reads).toEqual(["r1<1", "r1<10"]);
  });

  test("rooms are judged apart", async () => {
    const { backlog } = countingBacklog();
    const w = new WriterDuplicates(backlog, rule);
    const kept = await w.keep([logged(1, "a", 0, "r1"), logged(2, "a", 1, "r2"), logged(3, "a", 2, "r2")]);
    expect(seqs(kept)).toEqual([1, 2]);
  });
});
