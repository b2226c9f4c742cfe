import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ControlEvent } from "../chat/control.ts";
import type { LoggedMessage, MessageDraft } from "../chat/message.ts";
import { errorFields, type Logger, silentLogger } from "../log/index.ts";
import { type CheckpointSettings, checkpointOffThread } from "../sqlite/checkpoints.ts";
import { LogRetention } from "./sqlite-log-retention.ts";
import { type BusListener, BusUnavailableError, type MessageBus, type Unsubscribe } from "./types.ts";

export interface SqliteBusOptions {
  /** Most messages handed to a consume() handler at once. */
  batchSize?: number;
  /**
   * How long an idle consumer, woken by an append, waits for more before it reads, and how long one
   * that was handed less than a full batch waits before its next read: its handler (the backlog
   * writer) then writes one transaction for what arrived meanwhile, not one per message or per round
   * trip to its thread. Live delivery does not wait for it; only consumers (history) lag by this much.
   */
  consumeLingerMs?: number;
  /**
   * Most appends that wait for the end of the event-loop turn to be committed together; at this many
   * they are committed at the end of the current microtask pass instead (1: every pass commits, one
   * transaction per WebSocket message). Each waiting SEND is a frame its connection has in flight, so
   * this stays well under a connection's bound on those (STOMP_QUEUED_FRAMES_PER_CONNECTION), or a
   * client pipelining SENDs in separate WebSocket messages would be refused where it was not before.
   */
  turnGroupMax?: number;
  /**
   * How long a message stays in the log at least (by its sentAt); it goes once every consumer group
   * has also committed past it. 0 keeps everything. The first handle opened on a file sets it.
   */
  retentionMs?: number;
  /** How often the retention looks for expired rows (and deletes some when traffic is low). */
  retentionCheckMs?: number;
  /** First and longest wait before a failed consume() batch is retried. */
  retryMinMs?: number;
  retryMaxMs?: number;
  log?: Logger;
  /** The WAL's checkpoints (the defaults of checkpointOffThread unless given; tests make them small). */
  checkpoints?: CheckpointSettings;
}

type Listener<T> = (value: T) => void;

interface Row {
  seq: number;
  body: string;
}

/** How many of the last committed messages a consumer keeping up can take without reading the file. */
const RECENT = 2_048;

/**
 * The log shared by every bus opened on one file in this process, so that two handles behave like two
 * replicas on one Kafka: same seq for each message, every handle sees every message.
 */
class Log {
  readonly db: Database;
  readonly insert: Statement;
  readonly readFrom: Statement<Row, [number, number]>;
  readonly lastSeq: Statement<{ seq: number | null }, []>;
  readonly sentAtFrom: Statement<{ seq: number; sentAt: string }, [number]>;
  readonly committed: Statement<{ seq: number }, [string]>;
  private readonly commit: Statement;
  /** One transaction for a batch of appends; their stamped messages, in order. */
  private readonly insertAll: (drafts: MessageDraft[]) => LoggedMessage[];
  /** A commit at the end of this turn is scheduled. */
  private turnFlush = false;
  /** Appends waiting for the next group commit (scheduled when the first arrives). */
  private pending: {
    draft: MessageDraft;
    resolve: (m: LoggedMessage) => void;
    reject: (e: unknown) => void;
  }[] = [];
  /** The messages this process committed last (RECENT to 2 × RECENT of them), oldest first. */
  private recent: LoggedMessage[] = [];
  /** The checkpoint thread is starting the WAL over: nothing writes (see checkpointOffThread). */
  private held = false;
  /** Consumer offsets committed while held, written on release (the last one per group). */
  private readonly heldOffsets = new Map<string, number>();
  /** Woken after the next group commit (caughtUp). */
  private flushed: (() => void)[] = [];
  readonly listeners = new Set<Listener<LoggedMessage>>();
  /** Made once with the file: a bus.db created anew starts a new epoch, whatever its seqs repeat. */
  readonly epoch: string;
  readonly controlListeners = new Set<Listener<ControlEvent>>();
  /** Woken on every append, so idle consumers wait without polling. */
  private waiters: (() => void)[] = [];
  private queue: (() => void)[] = [];
  private draining = false;
  /** One active consumer per group; the others wait their turn like standby group members. */
  readonly groupOwners = new Map<string, Promise<void>>();
  refs = 0;

  private readonly stopCheckpoints: () => void;
  private readonly retention: LogRetention | undefined;
  private readonly retentionTimer: Timer | undefined;

  constructor(
    readonly path: string,
    private readonly key: string,
    log: Logger,
    retention: { ms: number; checkMs: number },
    checkpoints: CheckpointSettings | undefined,
  ) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { create: true, strict: true });
    // A commit writes every page it touched to the WAL, and a quiet turn's group is often one SEND:
    // 1 KiB pages, not 4, cut a lone append from 40-54 to 26 us here. Takes effect in a new file.
    this.db.run("PRAGMA page_size = 1024");
    this.db.run("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode: a committed publish survives a process crash (the guarantee a single Kafka
    // broker gives with acks=all, as it does not fsync either); FULL would fsync every message.
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run("PRAGMA busy_timeout = 5000");
    this.stopCheckpoints = checkpointOffThread(this.db, path, {
      settings: checkpoints,
      onFailure: (error) => log("warn", "bus log: WAL checkpoint failed", { path, error }),
      // While held, for the WAL to start over (see checkpointOffThread), nothing writes: appends wait
      // in `pending`, consumer offsets in `heldOffsets`, the retention timer skips its turn.
      writes: {
        hold: () => {
          this.held = true;
        },
        release: () => {
          this.held = false;
          for (const [group, seq] of this.heldOffsets) this.commitOffset(group, seq);
          this.heldOffsets.clear();
          this.flush();
        },
      },
    });
    // A plain rowid, not AUTOINCREMENT: that keeps the last seq in sqlite_sequence, a second page every
    // commit writes to the WAL (2.4 pages an append instead of 1.4; a lone commit 18-23 us against
    // 15-17 here). The seq still never repeats, as the retention never deletes the last row (a file
    // made before keeps its AUTOINCREMENT, which works the same).
    this.db.run(
      "CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, room_id TEXT NOT NULL, body TEXT NOT NULL)",
    );
    this.db.run("CREATE TABLE IF NOT EXISTS consumer_offsets (grp TEXT PRIMARY KEY, seq INTEGER NOT NULL)");
    this.db.run("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.db.run("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)", [
      `sqlite:${crypto.randomUUID()}`,
    ]);
    this.epoch = this.db
      .query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'epoch'")
      .get()!.value;
    this.insert = this.db.prepare("INSERT INTO log (room_id, body) VALUES (?, ?)");
    this.readFrom = this.db.prepare("SELECT seq, body FROM log WHERE seq > ? ORDER BY seq LIMIT ?");
    this.lastSeq = this.db.prepare("SELECT MAX(seq) AS seq FROM log");
    this.sentAtFrom = this.db.prepare(
      "SELECT seq, json_extract(body, '$.sentAt') AS sentAt FROM log WHERE seq >= ? ORDER BY seq LIMIT 1",
    );
    this.committed = this.db.prepare("SELECT seq FROM consumer_offsets WHERE grp = ?");
    this.commit = this.db.prepare(
      "INSERT INTO consumer_offsets (grp, seq) VALUES (?, ?) ON CONFLICT (grp) DO UPDATE SET seq = excluded.seq",
    );
    if (retention.ms > 0) {
      const kept = new LogRetention(
        this.db,
        retention.ms,
        (cutoff, end) => this.firstSeqSentSince(cutoff, end),
        () => this.lastSeq.get()?.seq ?? 0,
      );
      const deleteSome = this.db.transaction((max: number) => kept.deleteSome(max));
      this.retention = kept;
      this.retentionTimer = setInterval(() => {
        if (this.held) return;
        try {
          kept.refresh();
          if (kept.pending) deleteSome(LogRetention.TIMER_CHUNK);
        } catch (error) {
          log("warn", "bus log: deleting expired messages failed", { path, ...errorFields(error) });
        }
      }, retention.checkMs);
      this.retentionTimer.unref();
    }
    this.insertAll = this.db.transaction((drafts: MessageDraft[]) => {
      const messages = drafts.map((draft): LoggedMessage => {
        const seq = Number(this.insert.run(draft.roomId, JSON.stringify(draft)).lastInsertRowid);
        return { ...draft, seq, epoch: this.epoch };
      });
      try {
        this.retention?.deleteSome(LogRetention.commitShare(drafts.length));
      } catch {
        // Expired rows only: the appends commit without them, and the timer tries again (and logs).
      }
      return messages;
    });
  }

  /**
   * The first seq sent at or after `cutoff` (an ISO time), or the log's end + 1: a binary search over
   * the log by sentAt, which rises with the seq in one process.
   */
  firstSeqSentSince(cutoff: string, end = this.lastSeq.get()?.seq ?? 0): number {
    let lo = 1;
    let hi = end + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.sentAtFrom.get(mid);
      if (row && row.seq <= end && row.sentAt < cutoff) lo = row.seq + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Queues a message for the next group commit: the appends made in one turn of the event loop — the
   * SENDs of every connection whose frames arrived in it — are written in one transaction once the
   * turn's callbacks have run (setImmediate), and each resolves (then is delivered) only after that
   * transaction's COMMIT. A failed transaction rejects all of its appends: none was written. (A commit
   * per microtask pass, i.e. per WebSocket message, cost a commit per SEND, ~4 WAL writes each: in W1
   * (4 senders, 1,000 subscribers) the commits were ~9% of the event loop's samples, ~5% now. The
   * RECEIPTs now leave outside the socket's callback, one write each: in W2 at 1,000 members, 0.7 more
   * sendto and 4 fewer WAL pwrites per message, the server's CPU no higher.)
   */
  append(draft: MessageDraft, turnGroupMax: number): Promise<LoggedMessage> {
    return new Promise((resolve, reject) => {
      this.pending.push({ draft, resolve, reject });
      if (this.pending.length >= turnGroupMax) {
        if (this.pending.length === turnGroupMax) queueMicrotask(() => this.flush());
      } else if (!this.turnFlush) {
        this.turnFlush = true;
        setImmediate(() => {
          this.turnFlush = false;
          this.flush();
        });
      }
    });
  }

  /** Records how far a consumer group has handled the log (at once, or on release when held). */
  commitOffset(group: string, seq: number): void {
    if (this.held) this.heldOffsets.set(group, seq);
    else this.commit.run(group, seq);
  }

  /** Writes what was appended since the last flush in one transaction, then answers and delivers it. */
  flush(): void {
    const batch = this.pending;
    if (batch.length === 0 || this.held) return;
    this.pending = [];
    const flushed = this.flushed;
    this.flushed = [];
    let messages: LoggedMessage[] | undefined;
    try {
      messages = this.insertAll(batch.map((p) => p.draft));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
    if (messages) {
      const written = messages;
      this.deliver(() => {
        for (const message of written) for (const listener of this.listeners) listener(message);
      });
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(written[i]!);
      this.recent.push(...written);
      if (this.recent.length > 2 * RECENT) this.recent = this.recent.slice(-RECENT);
      this.wakeAll();
    }
    for (const done of flushed) done();
  }

  /**
   * What was committed after `position`, from the messages this process committed last, when they
   * hold it without a gap (another process writing the file leaves one): a consumer keeping up reads
   * no row back and parses no JSON. Undefined when they do not reach back to `position`.
   */
  recentAfter(position: number, limit: number): LoggedMessage[] | undefined {
    const recent = this.recent;
    const first = recent[0]?.seq;
    // Seqs this process committed are consecutive unless another process wrote in between.
    const at = first === undefined ? -1 : position + 1 - first;
    if (at < 0 || at >= recent.length || recent[at]!.seq !== position + 1) return undefined;
    const out: LoggedMessage[] = [];
    for (let i = at; i < recent.length && out.length < limit; i++) {
      if (recent[i]!.seq !== position + 1 + out.length) break;
      out.push(recent[i]!);
    }
    return out;
  }

  readAfter(position: number, limit: number): LoggedMessage[] {
    return this.readFrom.all(position, limit).map((row) => ({
      ...(JSON.parse(row.body) as MessageDraft),
      seq: row.seq,
      epoch: this.epoch,
    }));
  }

  control(event: ControlEvent): void {
    this.deliver(() => {
      for (const listener of this.controlListeners) listener(event);
    });
  }

  /**
   * Deliveries run in a microtask, one after another in append order, so a listener that publishes
   * from inside its handler cannot make other listeners see a later seq before an earlier one.
   */
  private deliver(job: () => void): void {
    this.queue.push(job);
    if (this.draining) return;
    this.draining = true;
    queueMicrotask(() => {
      for (let i = 0; i < this.queue.length; i++) this.queue[i]!();
      this.queue = [];
      this.draining = false;
    });
  }

  /** Resolves after every append made so far is committed and every delivery queued so far has run. */
  delivered(): Promise<void> {
    if (this.pending.length > 0) {
      return new Promise<void>((done) => this.flushed.push(done)).then(() => this.delivered());
    }
    return new Promise((done) => this.deliver(done));
  }

  nextAppend(): Promise<void> {
    return new Promise((wake) => this.waiters.push(wake));
  }

  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  release(): void {
    if (--this.refs > 0) return;
    // First: it ends a hold the checkpoint thread may have asked for, writing what waited for it.
    this.stopCheckpoints();
    this.flush(); // appends already queued are written (and answered) before the file closes
    openLogs.delete(this.key);
    clearInterval(this.retentionTimer);
    this.db.close();
  }
}

const openLogs = new Map<string, Log>();

function openLog(
  path: string,
  logger: Logger,
  retention: { ms: number; checkMs: number },
  checkpoints: CheckpointSettings | undefined,
): Log {
  const key = path === ":memory:" ? `:memory:${crypto.randomUUID()}` : resolve(path);
  let log = openLogs.get(key);
  if (!log) {
    log = new Log(path === ":memory:" ? path : key, key, logger, retention, checkpoints);
    openLogs.set(key, log);
  }
  log.refs++;
  return log;
}

/** Calls a listener, keeping one faulty subscriber from breaking delivery to the others. */
function guarded<T>(handler: (value: T) => void, log: Logger, what: string): Listener<T> {
  return (value) => {
    try {
      handler(value);
    } catch (err) {
      log("error", `${what} handler failed`, errorFields(err));
    }
  };
}

interface Stop {
  stopped: boolean;
  /** Resolves when stop() is called, to cut a retry wait short. */
  signal: Promise<void>;
  stop(): void;
}

function newStop(): Stop {
  let resolveSignal!: () => void;
  const signal = new Promise<void>((done) => {
    resolveSignal = done;
  });
  const stop: Stop = {
    stopped: false,
    signal,
    stop() {
      stop.stopped = true;
      resolveSignal();
    },
  };
  return stop;
}

/**
 * The embedded bus of the one-process default: a durable append-only log in SQLite (WAL), `seq` = the
 * log position, live delivery in process, and consumer groups whose committed position lives in the same
 * file. `path` is a file or ":memory:"; handles opened on one path in one process share the log.
 */
export function createSqliteBus(path: string, options: SqliteBusOptions = {}): MessageBus {
  const {
    batchSize = 500,
    consumeLingerMs = 20,
    retryMinMs = 50,
    retryMaxMs = 5_000,
    turnGroupMax = 32,
    retentionMs = 0,
    retentionCheckMs = 1_000,
    log = silentLogger,
    checkpoints,
  } = options;
  const shared = openLog(path, log, { ms: retentionMs, checkMs: retentionCheckMs }, checkpoints);
  const mine = new Set<Listener<LoggedMessage>>();
  const mineControl = new Set<Listener<ControlEvent>>();
  /** Adds a listener to the shared log and to this handle's own set, so close() can drop just ours. */
  const listen = async <T>(
    all: Set<Listener<T>>,
    own: Set<Listener<T>>,
    handler: (value: T) => void,
    what: string,
  ): Promise<Unsubscribe> => {
    const listener = guarded(handler, log, what);
    all.add(listener);
    own.add(listener);
    return async () => {
      all.delete(listener);
      own.delete(listener);
    };
  };
  const consumers = new Set<Unsubscribe>();
  let closed = false;

  /**
   * Hands `handler` what was appended in the last `pastMs` (by the messages' sentAt, which rises with
   * the log in one process), marked past; returns the last seq handed over. Synchronous: no append
   * can come in between, and live delivery of anything up to it is skipped by the caller.
   */
  const handOverPast = (handler: BusListener, pastMs: number): number => {
    const end = shared.lastSeq.get()?.seq ?? 0;
    let position = shared.firstSeqSentSince(new Date(Date.now() - pastMs).toISOString(), end) - 1;
    while (position < end) {
      const rows = shared.readFrom.all(position, batchSize);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (row.seq > end) return end;
        const message = { ...(JSON.parse(row.body) as MessageDraft), seq: row.seq, epoch: shared.epoch };
        try {
          handler(message, true);
        } catch (err) {
          log("error", "bus subscriber handler failed", errorFields(err));
        }
        position = row.seq;
      }
    }
    return end;
  };

  const consumeLoop = async (
    group: string,
    handler: (batch: LoggedMessage[]) => Promise<void>,
    stop: Stop,
  ) => {
    let position = shared.committed.get(group)?.seq ?? 0;
    let delay = retryMinMs;
    // Asked to stop, it still hands over what is already in the log (a graceful stop leaves the
    // history complete, whatever the linger below had not read yet), but retries nothing.
    for (;;) {
      const batch = shared.recentAfter(position, batchSize) ?? shared.readAfter(position, batchSize);
      if (batch.length === 0) {
        if (stop.stopped) return;
        await shared.nextAppend();
        if (consumeLingerMs > 0) await Promise.race([Bun.sleep(consumeLingerMs), stop.signal]);
        continue;
      }
      try {
        await handler(batch);
      } catch (err) {
        if (stop.stopped) return;
        log("warn", "bus consumer batch failed, will retry", {
          group,
          ...errorFields(err),
          retryInMs: delay,
        });
        await Promise.race([Bun.sleep(delay), stop.signal]);
        delay = Math.min(delay * 2, retryMaxMs);
        continue;
      }
      delay = retryMinMs;
      position = batch[batch.length - 1]!.seq;
      // Committed even when asked to stop meanwhile: the handler finished this batch.
      shared.commitOffset(group, position);
      // Not behind by a full batch: linger before the next read too, or a handler that awaits (the
      // backlog's writer thread) would take the few appends made meanwhile, batch after tiny batch.
      if (batch.length < batchSize && consumeLingerMs > 0 && !stop.stopped) {
        await Promise.race([Bun.sleep(consumeLingerMs), stop.signal]);
      }
    }
  };

  return {
    // Not async: every SEND passes through here (an async layer is a generator and a promise more).
    publish(draft) {
      if (closed) return Promise.reject(new BusUnavailableError("bus is closed", "not_written"));
      return shared.append(draft, turnGroupMax).catch((err: unknown) => {
        // Its group's transaction failed and was rolled back: not written.
        throw new BusUnavailableError(`bus append failed: ${String(err)}`, "not_written");
      });
    },

    async subscribe(handler, options) {
      const pastEnd = options?.pastMs ? handOverPast(handler, options.pastMs) : 0;
      // A delivery queued before this call may still run after it: what was handed over is skipped.
      return listen(shared.listeners, mine, (m) => m.seq > pastEnd && handler(m, false), "bus subscriber");
    },

    // Appends wait for the next group commit (end of the turn), their delivery for a microtask after it.
    caughtUp: () => shared.delivered(),

    // One log for every room.
    epochOf: () => shared.epoch,

    async consume(group, handler) {
      const stop = newStop();
      // Wait for the group's current owner to stop before reading its committed position.
      const previous = shared.groupOwners.get(group) ?? Promise.resolve();
      let release!: () => void;
      const owned = new Promise<void>((done) => {
        release = done;
      });
      shared.groupOwners.set(group, owned);
      const running = previous
        .then(() => (stop.stopped ? undefined : consumeLoop(group, handler, stop)))
        .catch((err) => log("error", "bus consumer stopped", { group, ...errorFields(err) }))
        .finally(() => {
          release();
          if (shared.groupOwners.get(group) === owned) shared.groupOwners.delete(group);
        });
      const unsubscribe = async () => {
        stop.stop();
        consumers.delete(unsubscribe);
        shared.wakeAll();
        await running;
      };
      consumers.add(unsubscribe);
      return unsubscribe;
    },

    async publishControl(event) {
      if (closed) throw new BusUnavailableError("bus is closed", "not_written");
      shared.control(event);
    },

    subscribeControl: (handler) => listen(shared.controlListeners, mineControl, handler, "bus control"),

    async close() {
      if (closed) return;
      closed = true;
      for (const listener of mine) shared.listeners.delete(listener);
      for (const listener of mineControl) shared.controlListeners.delete(listener);
      await Promise.all([...consumers].map((stop) => stop()));
      shared.release();
    },
  };
}
