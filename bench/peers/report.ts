/** The markdown sections of the peers benchmark (bench/peers.ts), from its measured runs. */
import { fmtInt, median } from "../support/child.ts";

export interface IdleRun {
  peer: string;
  beforeKiB: number;
  afterKiB: number;
  connectMs: number;
  closes: number;
}

export interface FanoutTrial {
  sent: number;
  acked: number;
  delivered: number;
  expected: number;
  /** First publish to last delivery. */
  ms: number;
  bytes: number;
  /** Client process CPU, µs. */
  clientCpu: number;
  errors: number;
  serverCpuMs: number;
}

export interface FanoutRun {
  peer: string;
  trials: FanoutTrial[];
}

export interface ChatStepResult {
  sent: number;
  acked: number;
  expected: number;
  received: number;
  duplicates: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** Server CPU over the step, % of one core. */
  cpuPercent: number;
}

export interface ChatRun {
  peer: string;
  members: number;
  steps: ChatStepResult[];
}

export interface PeersSettings {
  idleConnections: number;
  fanoutMembers: number;
  fanoutSenders: number;
  fanoutWindow: number;
  fanoutMs: number;
  fanoutTrials: number;
  chatSizes: number[];
  chatRate: number;
  chatMs: number;
  chatWarmupMs: number;
  chatTrials: number;
}

const BARE = "bare Bun";
const f2 = (n: number) => n.toFixed(2);
const range = (values: number[], fmt: (n: number) => string) =>
  `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;

/** Copies received per second over a fan-out trial. */
const rate = (t: FanoutTrial) => t.delivered / (t.ms / 1000);
/** The server's CPU time per copy, in µs. */
const cpuPer = (t: FanoutTrial) => (t.serverCpuMs * 1000) / t.delivered;

export function fanoutSection(
  runs: FanoutRun[],
  s: PeersSettings,
  heading = "### Peers W1: fan-out",
): string[] {
  if (runs.length === 0) return [];
  const stats = runs.map((r) => ({
    peer: r.peer,
    trials: r.trials,
    rate: median(r.trials.map(rate)),
    rates: r.trials.map(rate),
    cpu: median(r.trials.map(cpuPer)),
    cores: median(r.trials.map((t) => t.serverCpuMs / t.ms)),
    clientCpu: median(r.trials.map((t) => t.clientCpu / t.delivered)),
    bytes: median(r.trials.map((t) => t.bytes / t.delivered)),
    lost: r.trials.reduce((a, t) => a + (t.expected - t.delivered), 0),
    errors: r.trials.reduce((a, t) => a + t.errors + (t.sent - t.acked), 0),
  }));
  const bare = stats.find((x) => x.peer.startsWith(BARE));
  const ours = stats.find((x) => x.peer.startsWith("ChatTalk"));
  const vs = (v: number, base: number | undefined) => (base ? f2(v / base) : "–");
  const rows = stats.map(
    (x) =>
      `| ${x.peer} | ${fmtInt(x.rate)} | ${range(x.rates, (n) => `${(n / 1e6).toFixed(2)}M`)} | ${vs(x.rate, bare?.rate)} | ${x.cpu.toFixed(3)} | ${
        bare ? f2(bare.cpu / x.cpu) : "–"
      } | ${f2(x.cores)} | ${x.clientCpu.toFixed(3)} | ${x.bytes.toFixed(0)} | ${x.lost} | ${x.errors} |`,
  );
  const lines = [
    `${heading} (1 room, ${fmtInt(s.fanoutMembers)} subscribers)`,
    "",
    `${fmtInt(s.fanoutMembers)} connections of ${fmtInt(s.fanoutMembers)} distinct users, all subscribed to one room; ${s.fanoutSenders} of them publish`,
    "real messages, each acknowledged by the server (STOMP SEND with a receipt, Centrifugo publish reply,",
    "Socket.IO emit with ack), keeping at most",
    `${s.fanoutWindow} messages in flight (published, not yet at every subscriber). A trial publishes for ${s.fanoutMs / 1000} s and ends when`,
    `every copy has arrived; deliveries/s = copies received / (first publish → last copy). ${s.fanoutTrials} trials per`,
    "server after a warm-up, servers alternated, median and range (slowest–fastest). Server CPU is the",
    "server process's user + system time over the trial (all its threads), per delivery; cores = CPU time /",
    "trial time. Clients and servers share the 2 cores, so deliveries/s is partly bounded by the client; the",
    "CPU per delivery is the steadier comparison. Lost = copies that never arrived; errors = refused or",
    "unacknowledged publishes and closed sockets.",
    "",
    "| server | deliveries/s | range | vs bare | server CPU µs/delivery | vs bare (CPU) | server cores | client CPU µs/delivery | bytes/delivery | lost | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ];
  if (ours && bare) {
    // Each round's two trials ran back to back, so their ratio shows how far the machine's noise
    // moves the verdict between rounds.
    const rounds = roundRatios(ours.trials, bare.trials);
    lines.push(
      `**ChatTalk over the wire: ${f2(ours.rate / bare.rate)}× the bare publish by deliveries/s, ${f2(
        bare.cpu / ours.cpu,
      )}× by server CPU per delivery** (target ≥ 0.9×; round by round ${range(rounds.rate, f2)} and ${range(
        rounds.cpu,
        f2,
      )}).`,
    );
    const cf = stats.find((x) => x.peer.includes("+history"));
    if (cf) {
      lines.push(
        `Against Centrifugo with history: ${f2(ours.rate / cf.rate)}× the deliveries/s at ${f2(cf.cpu / ours.cpu)}× less server CPU per delivery.`,
      );
    }
    lines.push("");
  }
  return lines;
}

/**
 * ChatTalk against the bare server round by round (trial i of each ran in the same round): deliveries/s
 * over the bare one's, and the bare one's CPU per delivery over ChatTalk's (above 1 = ChatTalk cheaper).
 */
export function roundRatios(ours: FanoutTrial[], bare: FanoutTrial[]): { rate: number[]; cpu: number[] } {
  const n = Math.min(ours.length, bare.length);
  const out = { rate: [] as number[], cpu: [] as number[] };
  for (let i = 0; i < n; i++) {
    out.rate.push(rate(ours[i]!) / rate(bare[i]!));
    out.cpu.push(cpuPer(bare[i]!) / cpuPer(ours[i]!));
  }
  return out;
}

export function chatSection(
  runs: ChatRun[],
  s: PeersSettings,
  heading = "### Peers W2: chat latency",
): string[] {
  if (runs.length === 0) return [];
  const rows: string[] = [];
  const verdicts: string[] = [];
  for (const size of s.chatSizes) {
    const atSize = runs.filter((r) => r.members === size);
    for (const r of atSize) {
      const st = r.steps;
      const lost = st.reduce((a, x) => a + (x.expected - x.received), 0);
      const errors = st.reduce((a, x) => a + x.errors + (x.sent - x.acked), 0);
      const dups = st.reduce((a, x) => a + x.duplicates, 0);
      rows.push(
        `| ${fmtInt(size)} (${fmtInt(size / 5)} rooms) | ${r.peer} | ${f2(median(st.map((x) => x.p50)))} | ${f2(
          median(st.map((x) => x.p99)),
        )} | ${range(
          st.map((x) => x.p99),
          f2,
        )} | ${f2(Math.max(...st.map((x) => x.max)))} | ${median(st.map((x) => x.cpuPercent)).toFixed(0)}% | ${lost} | ${dups} | ${errors} |`,
      );
    }
    const p99 = (match: (peer: string) => boolean) => {
      const r = atSize.find((x) => match(x.peer));
      return r ? median(r.steps.map((x) => x.p99)) : undefined;
    };
    const ours = p99((p) => p.startsWith("ChatTalk"));
    const cf = p99((p) => p.includes("+history"));
    if (ours !== undefined && cf !== undefined) {
      verdicts.push(
        `${fmtInt(size)} members: ChatTalk p99 ${f2(ours)} ms vs Centrifugo +history ${f2(cf)} ms (${
          ours <= cf ? "level or better" : `${f2(ours / cf)}×`
        })`,
      );
    }
  }
  return [
    `${heading} (rooms of 5 members)`,
    "",
    `Every member of every room connected (one user per connection) and subscribed to its room. Open loop: ${fmtInt(s.chatRate)}`,
    "messages/s in all, due publishes sent every millisecond, rooms in turn, each from a random member of",
    "the room; every member receives it, the sender included. Latency: the client's clock from publish to",
    `each member's copy. ${s.chatTrials} steps of ${s.chatMs / 1000} s per server after a ${s.chatWarmupMs / 1000} s warm-up, servers alternated;`,
    "p50 and p99 are the medians over the steps, with the range of the steps' p99; max over all steps.",
    "Server CPU: % of one core over the step. Lost = copies that never arrived, dup = copies that arrived twice.",
    "",
    "| members | server | p50 ms | p99 ms | p99 range | max ms | server CPU | lost | dup | errors |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    verdicts.length > 0 ? `**${verdicts.join("; ")}.**` : "",
    "",
    ...(heading.startsWith("### Peers") ? TAIL_DIAGNOSIS : []),
  ];
}

/**
 * Where ChatTalk's tail came from when profiled, and what has been done about it (kept with the table
 * it explains; re-profile with the command it gives after changing the paths it names).
 */
const TAIL_DIAGNOSIS = [
  "Where ChatTalk's tail comes from, as profiled on 2026-12-01 (`BENCH_CHAT_SIZES=1000 BENCH_PEERS=chat",
  "BENCH_ONLY=ChatTalk BENCH_PROFILE=/tmp/prof bun bench/peers.ts`, then `bun bench/support/cpu-profile.ts",
  "/tmp/prof/*.cpuprofile --from <s>` over the chat steps; `BENCH_STALLS=<file>` adds a 1 ms event-loop",
  "drift monitor, bench/support/loop-stalls.ts). Earlier: about 70% of the JavaScript thread's samples were",
  "SQLite calls on the event loop; read positions then became one multi-row UPDATE per flush, the",
  "confirmation pass visits only rooms that got something, and the bus's consumer lingers 20 ms so the",
  "backlog writer commits per batch. Then, at 1,000 members, the backlog writer's transactions were 31% of",
  "the samples (in stretches up to 16 ms), the bus append of each SEND 18-29%, the consumer reading each",
  "row back 6%, the publish-latency histogram 3-4%. Since: the backlog writes from a thread of its own",
  "(`lib/backlog/sqlite-append-worker.ts`; what stays on the event loop is handing each batch over as one",
  "JSON string, ~2-5%); the consumer takes what was just committed from memory; the histogram is cheap; the",
  "bus file uses 1 KiB pages (a lone commit 26 µs instead of 40-54); and the bus commits in groups, with",
  "each connection's SENDs to rooms pipelined (answered in order, each holding its place among the frames",
  "that may wait on the connection). A group was first the appends of one pass of the microtask queue: this",
  "bench's clients send one frame per WebSocket message, so that was one commit per SEND (~25% of the",
  "samples). It is now the appends of one event-loop turn, across connections (at most 32): the RECEIPTs",
  "then leave outside the socket's callback, one write each (`send` in the JavaScript thread's samples,",
  "where it was counted outside them before), and each commit's ~4 WAL writes are shared (W1: bus commits",
  "from 9% of the samples to 5%). At 5,000 members a quiet run showed the event loop held 35-150 ms once a",
  "second: the read confirmations pinged every connection with news at once (~7 µs a ping, 14% of the",
  "samples) and the read positions of the whole second were saved in one 5,000-row UPDATE (20-34 ms); the",
  "pings are now spread over 800 ms in slices of 100 connections, and positions are saved every 100 ms",
  "(`apps/ws-node/confirmed-reads.ts`, `read-positions.ts`). On 2026-12-02, at 200 members on a quiet",
  "machine (p99 ~4 ms against Centrifugo's ~1.5): `strace` of the event loop found 73 fsyncs in 12 s, 137",
  "ms in all, up to 16 ms each: SQLite's WAL checkpoints of the bus log and the stores, run by the",
  "committing connection. They now run on a thread of their own, once a second",
  "(`lib/sqlite/checkpoints.ts`; what stays is the WAL header's fsync when the log starts over: 9 in 10 s,",
  "9 ms in all); and a RECEIPT leaves corked with the sender's own copy of the message, one write instead",
  "of two (`strace`: 402 → 202 sendto for 200 SENDs). At 5,000 members the read positions' save, a 500-row",
  "UPDATE every 100 ms, held the loop 5-10 ms each time: it runs on a writer thread now",
  "(`lib/sqlite/write-thread.ts`). On 2026-12-02 (later), at 5,000 members: with no read-confirmation pings",
  "at all the server's CPU fell from 59-61% to 49-50% and the p99 from 8.0-9.4 ms to 4.1-5.5 — a ping and",
  "its pong cost about what a delivery does, and every connection with news got one each second (5,000 a",
  "second). A node now sends at most `READ_CONFIRM_PINGS_PER_SEC` (1,000) a second, those left over first",
  "in the next pass, and a pass stops visiting rooms once it has its fill (the drift monitor's",
  "once-a-second hold went from 7-10 ms to ~5). `perf` of the event loop's thread at 5,000 members: 43% of",
  "its time in the kernel (`sendto` alone 26%: on loopback it also runs the receiving side's TCP), 37% in",
  "Bun's native code, 17% in JavaScript; the background threads (SQLite writers, checkpoints) now run at",
  "nice 10 (`lib/threads/lower-priority.ts`), so the event loop wins a contended core, and the backlog's",
  "writer thread keeps a 32 MiB page cache (with SQLite's 2 MiB it re-read pages and spilled dirty ones to",
  "the WAL mid-transaction: 32k → 8k preads and 49k → 24k WAL writes in 3 s). Tried on 2026-12-02 and not",
  "kept: the bus's appends on a writer thread of their own (no INSERT or COMMIT on the event loop). In",
  "paired runs at 1,000 and 5,000 members the p50 rose from 0.38-0.41 ms to 0.48-0.54, the server's CPU by",
  "5-10 points and the p99 from 3.6-4.6 ms (one run 19) to 5.5-5.9: handing each group to the thread and",
  "its answer back costs more than the commit. What is left is not the per-message work of one thread, as",
  "this note said before; a model says so (the bare server's BARE_* settings, bench/peers/bare-server.ts;",
  "e.g. `BARE_WORK_US=130 BENCH_PEERS=chat BENCH_ONLY='bare Bun' bun bench/peers.ts`). On 2026-12-02 (later",
  "still), with 130 µs of busy work in each SEND on its one thread (35% of a core, more than ChatTalk's",
  "event loop uses here) the bare server's p99 was 0.84-0.95 ms at 200 and 1,000 members, level with",
  "Centrifugo-with-history in the same runs (0.73-2.1 ms); publishing each turn's SENDs together in",
  "setImmediate, as the group commit does, added ~0.1 ms; two threads (reusePort, each SEND handed to the",
  "other thread over a BroadcastChannel) did not lower it (0.69-1.15 ms), so a Bun.serve per thread is not",
  "the lever it was thought to be; nor did 50 MiB of live objects and 64 KiB of garbage a SEND raise it",
  "(0.93-1.02 ms; 23 young collections of its ~40 MB heap in a run, pausing the event loop 1.4 ms on",
  "average and up to 3.8). Nor did these move ChatTalk's p99: its background threads at SCHED_IDLE instead",
  "of nice 10; the server and the clients pinned to a core each (the event loop's involuntary context",
  "switches fell from 5,300 to 60 a second, the p99 stayed at 2.7-4.4 ms). Inside ChatTalk (timestamps",
  "added for the test), a SEND's path to its RECEIPT took 0.16-0.23 ms at the median and 0.7-2.8 ms at the",
  "99th percentile: waiting for the group commit 0.03 ms, the commit 0.04-0.05 (p99 0.1), the delivery pass",
  "0.03; the slow ones come in bursts (groups of up to 32). Its main heap (~50 MB) had 41 young collections",
  "in one 200-member run (set-up and 17 s of chat, `BUN_JSC_logGC=1`), each pausing the event loop 1.8 ms",
  "on average, up to 4.7 ms: more than the model's, but of the same order, which did not raise its p99. Nor",
  "is it the disk or the backlog: with its data on tmpfs the p99 stayed at 2.7-3.1 ms (the max fell from",
  "40-60 ms to 7-12), and with the backlog writer off (28% CPU instead of 37-41%) at 2.4-3.2. The sender's",
  "path split with both processes' clocks (timestamps in the RECEIPT, for the test): from the client's",
  "publish to the server starting the SEND, p50 0.08-0.16 ms and p99 1.2-2.9 (one step 13.5); the SEND to",
  "its RECEIPT, p99 0.7-2.4; the RECEIPT back to the client, p99 0.3-1.0. So most of the tail is a SEND",
  "waiting to be read while the event loop is busy, though the clients sent as smoothly to ChatTalk as to",
  "the bare server (0.1-0.6% of SENDs left in timer ticks of 6 or more, for both). What holds it, from a",
  "timeline of every callback (with the microtasks it queued): single callbacks of 1.5-4.4 ms, a SEND's or",
  "a group commit's, about 1.5 a second at 200 members, where they take 0.01-0.3 ms otherwise; with",
  "`BUN_JSC_logGC=1`, 27 of 38 came right after a young collection of the main heap (39 in the run, 1-4.8",
  "ms each). So the collections are the largest part of the tail found so far, though the model's, of the",
  "same size, left its p99 near 1 ms: fewer allocations per message, so fewer collections, was the next",
  "thing to try. Done: the SEND's path lost three async layers (the bus's publish, the publisher's common",
  "path, the latency timer), a plain `{ text }` body is checked without zod, and frame heads are joined",
  "once instead of two rope strings per header: 22% fewer objects a message (248 → 194 at 200 members,",
  "counted with the collector off, `BUN_JSC_useGC=0`; 219 without the joined heads). A microbenchmark put",
  "the joined heads ~5% slower per frame once the frame is made flat, as sending does, and they were",
  "reverted for a while; paired W1 runs then put ChatTalk's CPU per delivery 10% lower with them",
  "(0.377-0.379 µs against 0.415-0.430), so they stay. Measuring them showed the codec benchmark had timed",
  "our unflattened ropes against stompjs's flat strings (now both are made flat: 1.7-2.7×, not 3.6-5.2×).",
  "But the collections did not follow: 70-72 young collections in a 200 + 1,000-member run against 74",
  "before, p99 unchanged within the noise (2.4-2.8 ms against 2.6-2.7). About 30% of them are Bun's own GC",
  "timer (`BUN_GC_TIMER_DISABLE=1`: 52, p99 2.3-2.6); the rest follow bytes allocated, which strings and",
  "frames dominate, not the object count. A larger young generation through JavaScriptCore's options",
  "(`BUN_JSC_minEdenToOldGenerationRatio=4`) made it worse: 36 full collections in the run, p99 3.6-5.7 ms.",
  "On a machine busy with other work (a load average of 7-16 on 2026-12-01) the drift monitor also saw the",
  "event loop late by 20-110 ms several times a second: one thread is scheduled out more than Go's several.",
  "On a slower machine (2026-12-02, later: every server used about twice the CPU of the recorded run, bare",
  "Bun 20%, Centrifugo-with-history 42-47%, ChatTalk 67-74%), the last 5 s step of every chat size had a p99",
  "of 110-170 ms, the others 4-6. The bus log's WAL grows 4 MB/s here, and under steady writes a passive",
  "checkpoint never finds it wholly copied, which SQLite needs to start it over; so at 64 MB the checkpoint",
  "thread's TRUNCATE took the write lock from under the event loop, whose next commit slept in SQLite's busy",
  "handler, in steps growing to 100 ms (the drift monitor: stalls of 126-238 ms; the CPU profile: 113 ms in",
  "one INSERT). The thread now asks the writer to hold its appends, offset commits and retention while a",
  "RESTART starts the WAL over (`lib/sqlite/checkpoints.ts`): 40-65 ms once every 16 s (its two fsyncs),",
  "and that step's p99 is 8-12 ms. The embedded default no longer loads the real adapters' libraries",
  "(`lib/backends.ts`; 28 MB of heap, most of it the MongoDB driver), but the young collections' pauses did",
  "not shorten with the heap (p50 3.1 ms a collection against 3.3): one that visits almost nothing still",
  "holds the event loop 1-2 ms. On that machine the event loop's thread used 49% of a core (29% user, 20%",
  "system), one of its SQLite threads 20%, and ChatTalk's p99 was 4.3 / 5.8 ms at 200 / 1,000 members against",
  "Centrifugo-with-history's 1.2 / 1.5 and bare Bun's 0.8 / 0.8. The model says the rest follows that busy",
  "share there: with 130 or 200 µs of busy work a SEND (46-52% or 61-65% of a core) the bare server's p99 was",
  "1.7-4.7 or 2.6-3.9 ms at 200 and 1,000 members, where the faster machine's had been near 1 ms. So on a",
  "slower core the lever is the event loop's own work per message, which the next changes must cut.",
  "Where the event loop's time goes beyond JavaScript, sampled with `perf` (2026-12-02, W2 at 1,000 members",
  "on that slower machine, ChatTalk at 49-57% of a core): the event loop's thread took 65% of the process's",
  "samples, of which 42% were in the kernel (TCP sends and receives, wake-ups), 37% in Bun's native code",
  "(uWebSockets, SQLite, the JavaScript engine's runtime) and 19% in JIT-compiled JavaScript; the embedded",
  "backlog's writer thread 20% (mostly ext4 writes of its pages), the JIT compiler 8%. A CPU profile of the",
  "JavaScript alone sees about a third of the thread's time, so trimming our JavaScript cannot halve it.",
  "Two cuts made then: the bus log no longer uses AUTOINCREMENT, whose last-seq table was a second page",
  "every commit wrote to the WAL (1.4 pages an append instead of 2.4, a lone commit 15-17 µs instead of",
  "18-23; the retention now always keeps the last row, so no seq is given out twice), and a room's publish",
  "passes the subscriber count the hub keeps instead of asking Bun (1.6% of the JavaScript samples). The",
  "read confirmations (a ping a second to each connection with news, at most READ_CONFIRM_PINGS_PER_SEC)",
  "looked costly at first: at 10 a second against 1,000, four alternated pairs gave a p99 of 3.3-4.4 ms",
  "against 5.2-14 and 49-52% of a core against 54-67%; but two more pairs, 250 against 1,000, gave",
  "5.2 and 3.0 ms against 4.1 and 3.9, so the difference is within this machine's noise and the default",
  'stays (the confirmations move read positions, unread counts and "seen by" within a second). A paired run',
  "that hour: ChatTalk's p99 3.5 / 5.1 ms at 200 / 1,000 members against Centrifugo-with-history's 3.3 / 3.5",
  "(its own steps' p99 ranged 1.7-37.6 ms) and bare Bun's 1.1 / 0.8.",
  "Where the slowest copies wait, laid over the scheduler's record (2026-12-02, W2 at 1,000 members on the",
  "slower machine: `BENCH_LATENCY_DUMP=<file>` has the clients write every copy's publish time on",
  "CLOCK_MONOTONIC and its latency, `perf record -k CLOCK_MONOTONIC -e sched:sched_switch -a` records what",
  "each core ran, and `bun bench/support/tail-episodes.ts` lays one over the other). The copies above",
  'the p99 come in about 4 episodes a second, each 4-7 ms long (the "~5 ms stalls every ~130 ms" the issue',
  "left unexplained). In two runs (31 and 32 episodes) three fifths to three quarters had another Bun",
  "thread on the core the event loop or the client needed: the embedded backlog's append thread 11 and",
  "14 times, the JavaScript engine's GC helpers 4 and 4, its JIT compiler 4 and 1, mimalloc's scavenger",
  "3 and 0 (a thread's name does not say whether it was the server's or the client's; only the server",
  "has the append thread). A few had the client busy (1 and 3) or the event loop itself for 2 ms or more",
  "(2 and 0); the rest, other processes' threads (2 and 5) or no thread in particular (3 and 5). Over 8 s",
  "the event loop was preempted for 266 and 518 ms in two runs: 119 and 411 by the client process (3,349",
  "and 14,272 times, 0.03-0.04 ms each), 47 and 24 by the append thread (49 and 33 times, 0.7-1 ms each),",
  "13-27 each by the scavenger, the GC helpers and the JIT compiler. Tried against that, in alternated",
  "pairs (each the p99 of a run's three steps): the server's other threads at SCHED_IDLE (all, or all",
  "but the GC helpers), which a woken thread preempts at once, 2.6-3.7 ms against 2.9-3.7 without (seven",
  "pairs, five better, the mean 13% lower) — not kept, as such a thread gets no CPU at all while the cores",
  "are busy, so under overload the backlog and the WAL's checkpoints would stop; the event loop at a",
  "0.1 ms scheduler slice (`sched_setattr`) 3.6-3.9 against 3.2-3.9 (three pairs); the append thread at",
  "SCHED_BATCH, whose wake-ups do not preempt, 3.6-4.0 (and one 7.9) against 3.5-4.3 (four pairs); the",
  "append thread yielding its core (a 0.1 ms sleep) after every 8 messages, a transaction each, 3.2-4.0",
  "against 2.9-3.8 (four pairs) with 4 points more CPU; the clients at nice 5 (two runs of all three",
  "servers) 2.8 and 4.0 against 4.2 and 4.1, while Centrifugo-with-history's went from 1.3 and 1.7 to 1.1",
  "and 1.0. Without the backlog at all (a build that skipped its writes) the server's CPU fell from",
  "48-52% of a core to 33-35% — the append thread is that difference, the event loop's share did not",
  "change — and the p99 to 2.5-3.2 ms against 3.3-3.7; a 200 ms consume linger instead of 20 (fewer,",
  "larger transactions) took 2-7 points off the CPU and nothing off the p99. So on this machine the tail",
  "is the one event loop sharing two cores: whatever else runs there, the clients included, costs it a",
  "slice a few times a second, and every delivery waits.",
  "",
  "Tried on 2026-12-02 (later), alternated with Centrifugo-with-history at 1,000 members: every server",
  "thread but the event loop at a 0.1 ms scheduler slice (`sched_setattr`, so that a woken event loop",
  "preempts them at once) 3.7-4.3 ms against 3.3-4.4 without (three pairs); the JavaScript engine's heap",
  "growth factors raised 3-4× (`BUN_JSC_*HeapGrowthFactor`, for rarer eden collections; in JSC's own GC",
  "log each paused the loop 0.9-3.4 ms) 3.6-4.9 against 4.2-5.0 (three pairs). With no disk at all (the",
  "bus in memory and no backlog writes, a test build) ChatTalk's p99 was 2.7-3.2 ms at 30-32% of a core",
  "and Centrifugo-with-history's 1.2-1.4 ms at 36-38% in the same runs, 2.0-2.8× apart; in the runs",
  "between them, with the disk, 5.1-5.5 ms at 52-55% against 2.3 and 2.8, 1.8-2.4× apart: the gap is not",
  "made of storage. `perf` of the event loop's thread: 58% of its time in the kernel, over a quarter of",
  "that in loopback sendto waking the clients' sleeping threads. W1 the same: with no disk 0.78 and 0.86×",
  "the bare publish by CPU per delivery, against 0.79 and 0.80 with it; `perf stat` counted as many",
  "deliveries per sendto as for the bare server (within 3%), so the rest is JavaScript per message (about",
  "9% of the loop) and the read confirmations' 1,000 pings a second (1,000 more recv, up to 2,000 more",
  "sendto). What is left on both targets is one JavaScript event loop doing a chat server's work per",
  "message on 2 shared cores; no scheduling, GC or storage setting moved it.",
  "",
  "Disk writes (`/proc/<pid>/io`, W2 at 1,000 members, 2,000 messages/s): the server wrote 70-72 MB/s,",
  "about 35 KiB per message, 93% of it the backlog's (its WAL, then the checkpoints copying the same pages",
  "back): each 20 ms batch of ~40 messages over 200 rooms dirtied, for nearly every message, a page of the",
  "table, one of the chat index and one of the index by sender (a leaf per room and sender). That index,",
  "used only to show a deleted account's lines as the deleted user, is gone (a small table of deletions",
  "joined on read instead): 46-48 MB/s and 3-6 points less CPU. Gathering 200 ms of messages per backlog",
  "transaction instead of 20 took it to 26-28 MB/s and 40-42% of a core, but was not kept: a message then",
  "reaches the HTTP history up to 200 ms after its RECEIPT, and a client that reads it at once (two tests",
  "did) misses it. Neither moved the p99 (2.9-5.0 ms against 3.0-3.3 before, alternated;",
  "Centrifugo-with-history 1.2-2.6 in the same runs), as the build without a disk had said.",
  "",
];

function idleSection(runs: IdleRun[], s: PeersSettings): string[] {
  if (runs.length === 0) return [];
  const per = (r: IdleRun) => (r.afterKiB - r.beforeKiB) / s.idleConnections;
  const mib = (k: number) => (k / 1024).toFixed(1);
  const ours = runs.find((r) => r.peer === "ChatTalk");
  const bare = runs.find((r) => r.peer === BARE);
  return [
    `### Peers W3: idle authenticated connections (${fmtInt(s.idleConnections)})`,
    "",
    `${fmtInt(s.idleConnections)} connections, each authenticated with a JWT (ChatTalk: STOMP CONNECT, heart-beat 0,0; Centrifugo: connect`,
    "command; Socket.IO: namespace connect with an auth token checked by middleware; bare: a CONNECT answered",
    "with a fixed CONNECTED), no subscription, held by one client process. Resident memory (VmRSS) of the",
    "server process after its set-up, and 2 s after the last connection was established. Centrifugo's two",
    "variants share a process: one row.",
    "",
    "| server | RSS before (MiB) | RSS after (MiB) | KiB per connection | connect time (s) | closed |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...runs.map(
      (r) =>
        `| ${r.peer} | ${mib(r.beforeKiB)} | ${mib(r.afterKiB)} | ${per(r).toFixed(2)} | ${(r.connectMs / 1000).toFixed(1)} | ${r.closes} |`,
    ),
    "",
    ours && bare
      ? `**${per(ours).toFixed(2)} KiB per idle authenticated connection** for ChatTalk (the whole app); Bun's own WebSocket costs ${per(bare).toFixed(2)} KiB.`
      : "",
    "",
  ];
}

export function peersReport(
  runs: { idle: IdleRun[]; fanout: FanoutRun[]; chat: ChatRun[] },
  s: PeersSettings,
): string {
  return [
    "## Against peers (`bun run bench peers`)",
    "",
    "ChatTalk is the whole one-process app (`bun apps/main.ts`: embedded SQLite bus and backlog, every",
    "message persisted before its acknowledgement; users and rooms made through its HTTP API). Centrifugo",
    "v6.9.1 (`scripts/peers install`) runs one process with the memory engine, JWT auth (connection token,",
    "and a subscription token per channel for members-only rooms), log level warn, usage stats off,",
    "`websocket.use_write_buffer_pool`; its namespace `chat` is plain, `hist` adds `history_size` 1000,",
    "`history_ttl` 24h, `force_recovery` and `presence` — the like-for-like one, since ChatTalk always keeps",
    "history and presence. Socket.IO 4.8 runs on Node.js with the WebSocket transport, a JWT middleware and",
    "a membership check on join. The bare server is Bun.serve publishing STOMP frames of ChatTalk's shape",
    "with no auth, checks or storage: the floor. Clients are ours (bench/peers/clients.ts), one process per",
    "server, on raw WebSockets; every copy of every message is counted.",
    "",
    ...idleSection(runs.idle, s),
    ...fanoutSection(runs.fanout, s),
    ...chatSection(runs.chat, s),
  ].join("\n");
}
