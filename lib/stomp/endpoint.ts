import type { Server, ServerWebSocket } from "bun";
import { jsonError } from "../http/json-error.ts";
import { errorFields, type Logger } from "../log/index.ts";
import { TokenBucket } from "../ratelimit/token-bucket.ts";
import { CloseCode, StompError } from "./errors.ts";
import { type HeartbeatPolicy, selectSubprotocol } from "./negotiate.ts";
import { type SessionLimits, type StompApp, StompSession } from "./session.ts";
import { count, type EndpointStats, newStats, peekCommand } from "./stats.ts";
import type { TransactionLimits } from "./transactions.ts";

export type { EndpointStats } from "./stats.ts";

/** Per-socket data Bun keeps for us; the endpoint routes each socket to its own app. */
export interface ConnData {
  endpoint: StompEndpoint;
  remoteAddress: string;
  subprotocol: string | undefined;
  session?: StompSession;
}

export interface EndpointOptions {
  serverName: string;
  limits: SessionLimits;
  heartbeat: HeartbeatPolicy;
  connectTimeoutMs: number;
  maxConnectionsPerUser: number;
  sendRate: { perSec: number; burst: number };
  transactions: TransactionLimits;
  log: Logger;
}

/**
 * A STOMP-over-WebSocket endpoint on Bun.serve: upgrades requests, owns the sessions, runs one ticker
 * for heart-beats and CONNECT timeouts (no timer per connection, so idle connections stay cheap),
 * and drains on shutdown. ws-node and presence-node each mount one with their own StompApp.
 */
export class StompEndpoint {
  readonly sessions = new Set<StompSession>();
  readonly stats: EndpointStats = newStats();
  readonly heartbeatPolicy: HeartbeatPolicy;
  readonly transactionLimits: TransactionLimits;
  readonly serverName: string;
  readonly log: Logger;
  private server: Server<ConnData> | undefined;
  private accepting = true;
  private readonly connectionsPerUser = new Map<string, number>();
  private readonly admitted = new WeakSet<StompSession>();
  private readonly sendBuckets = new WeakMap<StompSession, TokenBucket>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private sessionCounter = 0;
  private readonly sessionPrefix = Math.random().toString(36).slice(2, 8);

  constructor(
    private readonly app: StompApp,
    private readonly opts: EndpointOptions,
  ) {
    this.heartbeatPolicy = opts.heartbeat;
    this.transactionLimits = opts.transactions;
    this.serverName = opts.serverName;
    this.log = opts.log;
  }

  /** Bun's server, needed for publish(); set once Bun.serve has returned. */
  attach(server: Server<ConnData>): void {
    this.server = server;
  }

  /** Upgrades a request to a STOMP WebSocket; returns a Response only when it refuses. */
  upgrade(req: Request, server: Server<ConnData>, remoteAddress: string): Response | undefined {
    if (!this.accepting) return jsonError(503, "shutting_down", "this node is draining; connect to another");
    const offered = req.headers.get("sec-websocket-protocol");
    const subprotocol = selectSubprotocol(offered);
    if (offered && !subprotocol) {
      return jsonError(400, "unsupported_subprotocol", "offer v12.stomp, v11.stomp or v10.stomp, or none");
    }
    const data: ConnData = { endpoint: this, remoteAddress, subprotocol };
    const headers = subprotocol ? { "Sec-WebSocket-Protocol": subprotocol } : undefined;
    if (server.upgrade(req, { data, headers })) return undefined;
    return jsonError(426, "upgrade_required", "expected a WebSocket upgrade request");
  }

  publish(topic: string, data: string | Uint8Array): void {
    if (!this.server) return;
    const subscribers = this.server.subscriberCount(topic);
    if (this.server.publish(topic, data) === -1) this.stats.backpressure++;
    count(this.stats.framesOut, peekCommand(data), subscribers);
  }

  nextSessionId(): string {
    return `${this.sessionPrefix}-${(++this.sessionCounter).toString(36)}`;
  }

  /** Counts an authenticated connection against its user's limit. */
  admit(session: StompSession): void {
    const userId = session.principal!.userId;
    const n = this.connectionsPerUser.get(userId) ?? 0;
    if (n >= this.opts.maxConnectionsPerUser) {
      throw new StompError(
        "limit exceeded: connections per user",
        `at most ${this.opts.maxConnectionsPerUser}`,
      );
    }
    this.connectionsPerUser.set(userId, n + 1);
    this.admitted.add(session);
  }

  allowSend(session: StompSession): boolean {
    const ok = this.bucket(session).tryTake();
    if (!ok) this.stats.rateLimited++;
    return ok;
  }

  sendRetryAfterMs(session: StompSession): number {
    return this.bucket(session).msUntil();
  }

  onOpen(ws: ServerWebSocket<ConnData>): void {
    if (!this.accepting) {
      ws.close(CloseCode.goingAway, "server shutting down");
      return;
    }
    const session = new StompSession(ws, this, this.app, this.opts.limits);
    ws.data.session = session;
    this.sessions.add(session);
    this.stats.connectionsOpened++;
    this.ticker ??= setInterval(() => this.tick(), this.tickMs());
  }

  onMessage(ws: ServerWebSocket<ConnData>, message: string | Uint8Array): void {
    ws.data.session?.onBytes(message);
  }

  /** A frame parsed from a client, counted by command. */
  recordFrameIn(command: string): void {
    count(this.stats.framesIn, command);
  }

  /** What a session sent directly, with Bun's send status (-1: queued over the backpressure mark). */
  recordSend(data: string | Uint8Array, status: number): void {
    if (status === -1) this.stats.backpressure++;
    if (status !== 0) count(this.stats.framesOut, peekCommand(data));
  }

  onClose(ws: ServerWebSocket<ConnData>, code = 1005): void {
    const session = ws.data.session;
    if (!session || !this.sessions.delete(session)) return;
    this.stats.connectionsClosed++;
    this.stats.closes[code] = (this.stats.closes[code] ?? 0) + 1;
    if (this.admitted.has(session)) {
      const userId = session.principal!.userId;
      const n = (this.connectionsPerUser.get(userId) ?? 1) - 1;
      if (n <= 0) this.connectionsPerUser.delete(userId);
      else this.connectionsPerUser.set(userId, n);
    }
    try {
      session.onClose();
    } catch (err) {
      this.log("error", "stomp close handler failed", errorFields(err));
    }
    if (this.sessions.size === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  /** New upgrades get 503 from now on; connected clients stay until shutdown(). */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Stops taking connections and closes every client cleanly (1001) so it reconnects elsewhere;
   * resolves when all are gone or the grace time has passed.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.stopAccepting();
    for (const s of this.sessions) s.close(CloseCode.goingAway, "server shutting down");
    const deadline = performance.now() + graceMs;
    while (this.sessions.size > 0 && performance.now() < deadline) await Bun.sleep(20);
    for (const s of this.sessions) s.ws.terminate();
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private bucket(session: StompSession): TokenBucket {
    let b = this.sendBuckets.get(session);
    if (!b) {
      b = new TokenBucket(this.opts.sendRate.perSec, this.opts.sendRate.burst);
      this.sendBuckets.set(session, b);
    }
    return b;
  }

  private tickMs(): number {
    return Math.max(25, Math.min(1000, Math.floor(this.opts.heartbeat.minClientMs / 4) || 1000));
  }

  /** Heart-beats out, dead peers and slow CONNECTs closed. */
  private tick(): void {
    const now = performance.now();
    for (const s of this.sessions) {
      if (s.state === "connecting") {
        if (now - s.openedAt > this.opts.connectTimeoutMs) {
          s.fail("CONNECT timeout", `no CONNECT within ${this.opts.connectTimeoutMs} ms`, CloseCode.timeout);
        }
        continue;
      }
      if (s.state !== "connected") continue;
      // Peers may be late (background tabs throttle timers): allow twice the interval.
      if (s.expectEveryMs > 0 && now - s.lastReceivedAt > 2 * s.expectEveryMs) {
        this.stats.heartbeatTimeouts++;
        s.fail(
          "heart-beat timeout",
          `nothing received for ${Math.round(now - s.lastReceivedAt)} ms`,
          CloseCode.timeout,
        );
        continue;
      }
      if (s.sendEveryMs > 0 && now - s.lastSentAt >= s.sendEveryMs) s.sendHeartbeat();
    }
  }
}
