import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { MessageBus } from "../bus/types.ts";
import type { ControlEvent } from "../chat/control.ts";
import type { LoggedMessage, MessageDraft } from "../chat/message.ts";
import type { EndpointStats } from "../stomp/server/endpoint.ts";
import type { LagProbe } from "./kafka-lag.ts";

/** What metrics read from a STOMP endpoint (a StompEndpoint fits). */
export interface ObservedEndpoint {
  readonly sessions: { readonly size: number };
  readonly stats: EndpointStats;
}

/** What metrics read from a ws-node's replays of missed messages. */
export interface ObservedReplays {
  /** Replays so far by where the missed messages came from (none: nothing was missed). */
  readonly counts: { memory: number; store: number; none: number; incomplete: number };
  /** Approximate heap bytes of the recent messages kept for replays from memory. */
  readonly recentBytes: number;
  /** Backlog page reads running and waiting their turn; replays refused for a per-member limit. */
  readonly gate: { running: number; waiting: number; refused: number };
}

/** What metrics read from a ws-node's idempotent SEND (lib/delivery). */
export interface ObservedDuplicates {
  /** SENDs answered with a copy already stored or under way (a retry). */
  readonly retriesAnswered: number;
  /** Copies in the log this node's reader dropped as retries of a kept one. */
  readonly copiesDropped: number;
  /** Client message ids forgotten before the window passed, for lack of room (SEND_DEDUP_MAX_KEYS). */
  readonly evictedEarly: number;
}

/** One process's Prometheus registry with ChatTalk's metrics; the sources are read at scrape time. */
export interface Metrics {
  readonly registry: Registry;
  /** Connections, frames by command, disconnects, backpressure and rate limits of one endpoint. */
  observeEndpoint(name: string, endpoint: ObservedEndpoint): void;
  /** A running count of MESSAGE frames delivered to clients (the ws-node's room hub). */
  observeDeliveries(read: () => number): void;
  /** A running count of backlog writes and replays refused for coming from another bus log. */
  observeEpochConflicts(read: () => number): void;
  /** Replays by source (memory hits, backlog reads) and the recent messages' size. */
  observeReplays(read: () => ObservedReplays): void;
  /** Idempotent SEND: retries answered with the stored copy, copies dropped by the node's reader. */
  observeDuplicates(read: () => ObservedDuplicates): void;
  /** The bus with the latency of every publish recorded. */
  timeBus(bus: MessageBus): MessageBus;
  /** A consumer group's lag, measured at scrape time (failed measurements leave the gauge out). */
  observeConsumerLag(probe: LagProbe): void;
  /** Text exposition of every metric. */
  scrape(): Promise<string>;
  close(): Promise<void>;
}

const CLOSE_REASONS: Record<number, string> = {
  1000: "normal",
  1001: "going_away",
  1002: "protocol_error",
  1005: "no_status",
  1006: "abnormal",
  1008: "policy",
  1009: "too_big",
  1011: "internal",
  4000: "timeout",
  4008: "slow_consumer",
};

/** Close code → reason label; 1006 covers lost connections and sockets cut off at the send-buffer limit. */
export function closeReason(code: number): string {
  return CLOSE_REASONS[code] ?? "other";
}

export function createMetrics(opts: { app: string; node?: string; defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels(opts.node ? { app: opts.app, node: opts.node } : { app: opts.app });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const endpoints: [string, ObservedEndpoint][] = [];
  const deliveries: (() => number)[] = [];
  const epochConflicts: (() => number)[] = [];
  const replays: (() => ObservedReplays)[] = [];
  const duplicates: (() => ObservedDuplicates)[] = [];
  const probes: LagProbe[] = [];

  /** A counter mirroring running totals kept elsewhere; refreshed on every scrape. */
  const mirrored = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    read: (set: (labels: Record<L, string>, value: number) => void) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        read((labels, value) => this.inc(labels as never, value));
      },
    });

  new Gauge({
    name: "chattalk_stomp_connections",
    help: "Open STOMP WebSocket connections",
    labelNames: ["endpoint"],
    registers,
    collect() {
      for (const [name, e] of endpoints) this.set({ endpoint: name }, e.sessions.size);
    },
  });
  mirrored(
    "chattalk_stomp_connections_opened_total",
    "STOMP WebSocket connections opened",
    ["endpoint"],
    (set) => {
      for (const [name, e] of endpoints) set({ endpoint: name }, e.stats.connectionsOpened);
    },
  );
  mirrored(
    "chattalk_stomp_frames_in_total",
    "STOMP frames received, by command",
    ["endpoint", "command"],
    (set) => {
      for (const [name, e] of endpoints)
        for (const [command, n] of Object.entries(e.stats.framesIn)) set({ endpoint: name, command }, n);
    },
  );
  mirrored(
    "chattalk_stomp_frames_out_total",
    "STOMP frames sent, by command",
    ["endpoint", "command"],
    (set) => {
      for (const [name, e] of endpoints)
        for (const [command, n] of Object.entries(e.stats.framesOut)) set({ endpoint: name, command }, n);
    },
  );
  mirrored(
    "chattalk_stomp_disconnects_total",
    "STOMP connections closed, by WebSocket close code",
    ["endpoint", "code", "reason"],
    (set) => {
      for (const [name, e] of endpoints)
        for (const [code, n] of Object.entries(e.stats.closes))
          set({ endpoint: name, code, reason: closeReason(Number(code)) }, n);
    },
  );
  mirrored(
    "chattalk_stomp_backpressure_total",
    "Sends that passed the send-buffer limit (the socket is cut off; its client recovers on reconnect)",
    ["endpoint"],
    (set) => {
      for (const [name, e] of endpoints) set({ endpoint: name }, e.stats.backpressure);
    },
  );
  mirrored(
    "chattalk_stomp_rate_limited_total",
    "SENDs refused by the per-connection rate limit",
    ["endpoint"],
    (set) => {
      for (const [name, e] of endpoints) set({ endpoint: name }, e.stats.rateLimited);
    },
  );
  mirrored(
    "chattalk_stomp_sends_at_once_total",
    "SENDs taken on the fast path of signals (StompApp.sendAtOnce), without the frame parser",
    ["endpoint"],
    (set) => {
      for (const [name, e] of endpoints) set({ endpoint: name }, e.stats.sentAtOnce);
    },
  );
  mirrored(
    "chattalk_stomp_heartbeat_timeouts_total",
    "Connections closed for missing heart-beats",
    ["endpoint"],
    (set) => {
      for (const [name, e] of endpoints) set({ endpoint: name }, e.stats.heartbeatTimeouts);
    },
  );
  mirrored("chattalk_messages_delivered_total", "Chat messages delivered to subscribers", [], (set) => {
    if (deliveries.length > 0)
      set(
        {},
        deliveries.reduce((sum, read) => sum + read(), 0),
      );
  });
  mirrored(
    "chattalk_log_epoch_conflicts_total",
    "Backlog writes and replays refused because a room's history came from another bus log (a Kafka topic or bus.db created anew)",
    [],
    (set) => {
      if (epochConflicts.length > 0)
        set(
          {},
          epochConflicts.reduce((sum, read) => sum + read(), 0),
        );
    },
  );
  mirrored(
    "chattalk_replays_total",
    "Replays of missed messages at SUBSCRIBE, by source: memory (recent messages, no backlog read), store (backlog pages), none (nothing missed)",
    ["source"],
    (set) => {
      for (const read of replays) {
        const { counts } = read();
        for (const source of ["memory", "store", "none"] as const) set({ source }, counts[source]);
      }
    },
  );
  mirrored(
    "chattalk_replays_incomplete_total",
    "Replays that could not load every missed message (the client got a replay_incomplete notice)",
    [],
    (set) => {
      for (const read of replays) set({}, read().counts.incomplete);
    },
  );
  mirrored(
    "chattalk_replays_refused_total",
    "SUBSCRIBEs refused because the member had too many replays in progress (per connection or per user)",
    [],
    (set) => {
      for (const read of replays) set({}, read().gate.refused);
    },
  );
  new Gauge({
    name: "chattalk_replay_reads",
    help: "Backlog page reads of replays, by state: running (at most REPLAY_CONCURRENCY) or waiting their turn",
    labelNames: ["state"],
    registers,
    collect() {
      for (const read of replays) {
        const { gate } = read();
        this.set({ state: "running" }, gate.running);
        this.set({ state: "waiting" }, gate.waiting);
      }
    },
  });
  new Gauge({
    name: "chattalk_recent_messages_bytes",
    help: "Approximate heap bytes of the recent messages a ws-node keeps for replays from memory",
    registers,
    collect() {
      for (const read of replays) this.set(read().recentBytes);
    },
  });
  mirrored(
    "chattalk_send_retries_answered_total",
    "SENDs with an x-client-msg-id already stored (or under way) answered with the stored copy, nothing appended",
    [],
    (set) => {
      for (const read of duplicates) set({}, read().retriesAnswered);
    },
  );
  mirrored(
    "chattalk_duplicate_copies_dropped_total",
    "Copies of a client message in the log that this node's reader dropped as retries of a kept one",
    [],
    (set) => {
      for (const read of duplicates) set({}, read().copiesDropped);
    },
  );
  mirrored(
    "chattalk_duplicate_keys_evicted_early_total",
    "Client message ids forgotten before SEND_DEDUP_WINDOW_SEC passed, for lack of room (SEND_DEDUP_MAX_KEYS)",
    [],
    (set) => {
      for (const read of duplicates) set({}, read().evictedEarly);
    },
  );
  const publishSeconds = new Histogram({
    name: "chattalk_bus_publish_seconds",
    help: "Time until the bus durably accepted a publish",
    labelNames: ["kind", "outcome"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  new Gauge({
    name: "chattalk_bus_consumer_lag_messages",
    help: "Messages a consumer group has not yet committed (the Kafka topic, or the embedded bus.db)",
    labelNames: ["group", "topic"],
    registers,
    async collect() {
      this.reset();
      await Promise.all(
        probes.map(async (p) => {
          const lag = await p.measure().catch(() => undefined);
          if (lag) this.set({ group: p.group, topic: p.topic }, lag.total);
        }),
      );
    },
  });

  // One child per label set, made once: startTimer() per publish merged label objects and hashed them
  // again for every message (3-4% of the event loop's samples at 2,000 messages/s).
  const publishTimers = new Map<string, { ok: (s: number) => void; error: (s: number) => void }>();
  const timersFor = (kind: string) => {
    let t = publishTimers.get(kind);
    if (!t) {
      const ok = publishSeconds.labels({ kind, outcome: "ok" });
      const error = publishSeconds.labels({ kind, outcome: "error" });
      t = { ok: (s) => ok.observe(s), error: (s) => error.observe(s) };
      publishTimers.set(kind, t);
    }
    return t;
  };
  // Not an async function: each SEND passes through here, and an async layer allocates a generator,
  // a promise and a scope more than the two reactions below.
  const timed = <T>(kind: string, run: () => Promise<T>): Promise<T> => {
    const timers = timersFor(kind);
    const start = performance.now();
    let running: Promise<T>;
    try {
      running = run();
    } catch (err) {
      running = Promise.reject(err);
    }
    return running.then(
      (result) => {
        timers.ok((performance.now() - start) / 1000);
        return result;
      },
      (err: unknown) => {
        timers.error((performance.now() - start) / 1000);
        throw err;
      },
    );
  };

  return {
    registry,
    observeEndpoint: (name, endpoint) => void endpoints.push([name, endpoint]),
    observeDeliveries: (read) => void deliveries.push(read),
    observeEpochConflicts: (read) => void epochConflicts.push(read),
    observeReplays: (read) => void replays.push(read),
    observeDuplicates: (read) => void duplicates.push(read),
    observeConsumerLag: (probe) => void probes.push(probe),
    timeBus: (bus) => ({
      publish: (draft: MessageDraft): Promise<LoggedMessage> => timed("message", () => bus.publish(draft)),
      publishControl: (event: ControlEvent) => timed("control", () => bus.publishControl(event)),
      subscribe: (handler, options) => bus.subscribe(handler, options),
      caughtUp: (roomId, timeoutMs) => bus.caughtUp(roomId, timeoutMs),
      subscribeControl: (handler) => bus.subscribeControl(handler),
      consume: (group, handler) => bus.consume(group, handler),
      epochOf: (roomId) => bus.epochOf(roomId),
      close: () => bus.close(),
    }),
    scrape: () => registry.metrics(),
    async close() {
      await Promise.all(probes.splice(0).map((p) => p.close()));
      registry.clear();
    },
  };
}
