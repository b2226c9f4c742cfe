import { resolveJwtSecret } from "../../lib/auth/index.ts";
import { createSessionVerifier } from "../../lib/auth/session-verifier.ts";
import type { Backends } from "../../lib/backends.ts";
import { EpochCheck } from "../../lib/backlog/epochs.ts";
import type { Backlog } from "../../lib/backlog/types.ts";
import type { BacklogWriterRunner } from "../../lib/backlog/writer.ts";
import type { BusListener, MessageBus, Unsubscribe } from "../../lib/bus/types.ts";
import { isSessionEvent } from "../../lib/chat/control.ts";
import { type Chat, createChat } from "../../lib/chat/index.ts";
import { endRevokedSessions } from "../../lib/chat/revocation.ts";
import { fromStore } from "../../lib/chat/store-refusal.ts";
import type { Config } from "../../lib/config/index.ts";
import { stompEndpointSettings } from "../../lib/config/stomp.ts";
import { DuplicateIndex, pastToRead } from "../../lib/delivery/duplicates.ts";
import { IdempotentPublisher } from "../../lib/delivery/publisher.ts";
import { errorFields, type Logger } from "../../lib/log/index.ts";
import type { PresenceReporter } from "../../lib/presence/types.ts";
import type { SignalBus } from "../../lib/signals/types.ts";
import type { VerifyToken } from "../../lib/stomp/server/authenticate.ts";
import { StompEndpoint } from "../../lib/stomp/server/endpoint.ts";
import { CloseCode } from "../../lib/stomp/server/errors.ts";
import type { Stores } from "../../lib/store/types.ts";
import { ConfirmedReads } from "./confirmed-reads.ts";
import { UserEventsApp } from "./events-app.ts";
import { ReadPositionWriter } from "./read-positions.ts";
import { newReplayStats, type ReplayStats } from "./replay.ts";
import { ReplayGate } from "./replay-gate.ts";
import { RoomHub } from "./room-hub.ts";
import { RoomsApp, type RoomsState } from "./rooms-app.ts";
import { SignalHub } from "./signal-hub.ts";
import { SignalsApp } from "./signals-app.ts";

export interface WsNodeDeps {
  config: Config;
  stores: Pick<Stores, "users" | "rooms">;
  bus: MessageBus;
  backlog: Backlog;
  /** Where the backlog writer runs: inline, or in a thread of its own (lib/backends.ts picks). */
  backlogWriter: BacklogWriterRunner;
  verifyToken: VerifyToken;
  log: Logger;
  presence: PresenceReporter;
  /** Ephemeral signals (typing, read receipts) between nodes. */
  signals: SignalBus;
}

/** The node's dependencies from the configured backends; `bus` may be a wrapped one (metrics). */
export function wsNodeDeps(
  config: Config,
  backends: Backends<"ws-node">,
  log: Logger,
  bus = backends.bus,
): WsNodeDeps {
  return {
    config,
    stores: backends.stores,
    bus,
    backlog: backends.backlog,
    backlogWriter: backends.backlogWriter,
    verifyToken: createSessionVerifier({ tokens: backends.tokens, users: backends.stores.users }),
    presence: backends.presenceReporter,
    signals: backends.signals,
    log,
  };
}

export interface WsNode {
  readonly endpoint: StompEndpoint<RoomsState>;
  readonly hub: RoomHub;
  /** Local fan-out of the rooms' ephemeral signals. */
  readonly signalHub: SignalHub;
  /** The chat domain this node's STOMP app works through. */
  readonly chat: Chat;
  /** Keeps each room's history to one bus log, on write and on replay; counts its refusals (the writer thread's too). */
  readonly epochs: EpochCheck;
  /** Replays so far, by where the missed messages came from. */
  readonly replayStats: ReplayStats;
  /** Bounds replay work (backlog reads at once, replays per connection and user). */
  readonly replayGate: ReplayGate;
  /** Kept copies of client messages, as this node's reader judged them (duplicates dropped, for metrics). */
  readonly duplicates: DuplicateIndex;
  /** Appends SENDs once per client message id (retries answered, for metrics). */
  readonly publisher: IdempotentPublisher;
  /** Starts consuming the bus and writing the backlog; call before accepting connections. */
  start(): Promise<void>;
  /** Drains: clients closed cleanly, read positions written, bus subscriptions and backlog writer closed. */
  stop(): Promise<void>;
  /**
   * Rebalancing: closes `fraction` of the settled connections with 1001 (at least one), each first
   * taken off delivery with its read positions saved; their clients reconnect through the load
   * balancer, which sends them to emptier nodes. Resolves with how many were closed.
   */
  shed(fraction: number): Promise<number>;
}

export const WS_SERVER_NAME = "ChatTalk-ws-node/0.1";

/** The messaging node: STOMP endpoint + room fan-out, fed by the bus. Mount `endpoint` at /ws. */
export function createWsNode(d: WsNodeDeps): WsNode {
  const { config, log } = d;
  let endpoint: StompEndpoint<RoomsState> | undefined;
  // A replay pauses above half the send-buffer limit; what it holds meanwhile is bounded by the
  // other half, so sending it all at once at the end stays within the limit.
  const pauseAboveBytes = config.SEND_BUFFER_LIMIT_BYTES / 2;
  const hub = new RoomHub((topic, frame, n) => endpoint?.publishMessage(topic, frame, n), {
    maxHeld: 10_000,
    maxHeldBytes: pauseAboveBytes,
    maxPending: config.STOMP_PENDING_ACKS_PER_SUBSCRIPTION,
    recent: { perRoom: config.RECENT_MESSAGES_PER_ROOM, maxBytes: config.RECENT_MESSAGES_MAX_BYTES },
  });
  const replayStats = newReplayStats();
  const replayGate = new ReplayGate({
    concurrency: config.REPLAY_CONCURRENCY,
    perConnection: config.REPLAY_PER_CONNECTION,
    perUser: config.REPLAY_PER_USER,
    userBytesPerSec: config.REPLAY_USER_BYTES_PER_SEC,
    burstBytes: 1024 * 1024,
  });
  // One rule for which copy of a retried SEND is kept, on this node's fan-out, its SENDs and the
  // backlog writer alike (lib/delivery/duplicates.ts).
  const duplicateRule = {
    windowMs: config.SEND_DEDUP_WINDOW_SEC * 1000,
    maxKeys: config.SEND_DEDUP_MAX_KEYS,
  };
  const duplicates = new DuplicateIndex(duplicateRule);
  const publisher = new IdempotentPublisher(d.bus, duplicates, config.BUS_SEND_TIMEOUT_MS);
  const chat = createChat(
    {
      users: d.stores.users,
      rooms: d.stores.rooms,
      bus: d.bus,
      backlog: d.backlog,
      publisher,
      storeGuard: (call, what) => fromStore(call, log, what),
      signals: d.signals,
      log,
    },
    { maxMessageChars: config.MESSAGE_MAX_CHARS, inviteSecret: resolveJwtSecret(config) },
  );
  const epochs = new EpochCheck(d.backlog, log);
  // Saved every 100 ms: the confirmations come in spread over each second (below), and a pass that saved a
  // whole second's positions of every member at once held the event loop for 20-35 ms at 5,000 members.
  const readPositions = new ReadPositionWriter(d.stores.rooms, log, 100, (saved) => {
    chat.signals
      .readPositionsSaved(saved)
      .catch((err) => log("warn", "read receipts not published", errorFields(err)));
  });
  const reads = new ConfirmedReads(hub, readPositions, {
    spreadMs: 800,
    sliceSessions: 100,
    maxPingsPerPass: config.READ_CONFIRM_PINGS_PER_SEC, // one pass a second (below)
  });
  const signalHub = new SignalHub((topic, frame, n) => endpoint?.publishMessage(topic, frame, n));
  const signals = new SignalsApp({
    chat,
    hub: signalHub,
    rate: { perSec: config.SIGNAL_RATE_PER_SEC, burst: config.SIGNAL_BURST },
  });
  const events = new UserEventsApp({ chat, latestSeq: (roomId) => hub.latestSeq(roomId) ?? 0, log });
  const app = new RoomsApp({
    signals,
    events,
    epochs,
    chat,
    bus: d.bus,
    backlog: d.backlog,
    hub,
    readPositions,
    reads,
    replay: {
      page: { initial: 200, min: 25, max: 500, targetMs: d.backlog.pageReadTargetMs },
      waitForBusMs: 2_000,
      waitForBacklogMs: 3_000,
      pauseAboveBytes,
    },
    replayStats,
    replayGate,
    log,
    presence: d.presence,
  });
  endpoint = new StompEndpoint(app, {
    ...stompEndpointSettings(config),
    serverName: WS_SERVER_NAME,
    log,
    verifyToken: d.verifyToken,
  });
  const unsubscribes: Unsubscribe[] = [];
  let deliveredTimer: ReturnType<typeof setInterval> | undefined;
  let stopWriter: Unsubscribe | undefined;

  return {
    endpoint,
    hub,
    signalHub,
    chat,
    epochs,
    replayStats,
    replayGate,
    duplicates,
    publisher,
    async start() {
      await d.presence.start();
      // The log's recent past first (not delivered): it fills the duplicate index and the recent
      // messages, so retries and replays right after a restart are answered as before it.
      const fromBus: BusListener = (m, past) => {
        if (!duplicates.admit(m)) return;
        if (past) hub.recent.push(m);
        else {
          hub.deliver(m);
          signalHub.onRoomEvent(m);
          events.onRoomEvent(m);
        }
      };
      unsubscribes.push(await d.bus.subscribe(fromBus, { pastMs: pastToRead(duplicateRule) }));
      unsubscribes.push(
        await d.signals.subscribe((s) => {
          signalHub.onSignal(s);
          events.onSignal(s);
        }),
      );
      signalHub.start();
      events.start();
      unsubscribes.push(
        await d.bus.subscribeControl((e) => {
          if (isSessionEvent(e)) endRevokedSessions(e, [endpoint], d.verifyToken.forget);
          else app.onControl(e);
          events.onControl(e);
        }),
      );
      readPositions.start();
      // A pass over the rooms with news and a ping per connection with news, once a second (as
      // often as positions are saved): a connection that drops, or a crash, replays about that much.
      deliveredTimer = setInterval(() => void reads.confirmAll(), 1_000);
      // Every node runs a backlog writer; the bus's consumer group decides who writes which partitions.
      // In a thread its refusals are added to `epochs` (the metric) and its log lines come here.
      stopWriter = await d.backlogWriter.start(d.bus, d.backlog, { log, epochs, duplicates: duplicateRule });
    },
    async stop() {
      // Drain order matters for clients that reconnect elsewhere at once: stop taking connections
      // and stop delivering, save exactly what each client has been sent, and only then close them,
      // so their replay on the next node starts right after it — nothing lost, nothing twice.
      endpoint.stopAccepting();
      for (const u of unsubscribes.splice(0)) await u();
      signalHub.stop();
      events.stop();
      if (deliveredTimer) clearInterval(deliveredTimer);
      // Each connection confirms what it received (bounded: one that does not answer replays the rest).
      await reads.drain(1_000, config.SHUTDOWN_GRACE_MS / 2);
      await readPositions.flush();
      await endpoint.shutdown(config.SHUTDOWN_GRACE_MS);
      await readPositions.stop();
      await d.presence.stop();
      await stopWriter?.();
    },
    async shed(fraction) {
      const open = [...endpoint.sessions].filter((s) => s.state === "connected" && app.settled(s));
      const picked = open
        .map((s) => ({ s, k: Math.random() }))
        .sort((a, b) => a.k - b.k)
        .slice(0, Math.max(open.length > 0 ? 1 : 0, Math.round(open.length * fraction)))
        .map(({ s }) => s);
      await app.handOff(picked);
      for (const s of picked) s.close(CloseCode.goingAway, "rebalancing: reconnect");
      log("info", "closed connections for rebalancing", {
        closed: picked.length,
        settled: open.length,
      });
      return picked.length;
    },
  };
}
