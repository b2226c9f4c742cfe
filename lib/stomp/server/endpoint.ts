import type { Server, ServerWebSocket } from "bun";
import { jsonError } from "../../http/json-error.ts";
import { originAllowed } from "../../http/origin.ts";
import { errorFields } from "../../log/index.ts";
import type { Principal, StompApp } from "./app.ts";
import { CloseCode, StompError } from "./errors.ts";
import { type HoldLedger, userLedger } from "./holdings.ts";
import { selectSubprotocol } from "./negotiate.ts";
import { type ServerSession, type SessionHost, type SessionOptions, StompSession } from "./session.ts";
import { count, type EndpointStats, newStats } from "./stats.ts";
import type { ConnData, SocketOwner } from "./websocket.ts";

export type { EndpointStats } from "./stats.ts";

export interface EndpointOptions extends SessionOptions {
  maxConnectionsPerUser: number;
  /** Origins besides the request's own host whose pages may open a WebSocket; "*" for any. */
  allowedOrigins: readonly string[];
}

/**
 * A STOMP-over-WebSocket endpoint on Bun.serve: upgrades requests, authenticates CONNECT with its
 * `verifyToken`, owns the sessions, runs one ticker for heart-beats and CONNECT timeouts (no timer per
 * connection, so idle connections stay cheap), and drains on shutdown. ws-node and presence-node each
 * mount one with their own StompApp.
 */
export class StompEndpoint<S> implements SessionHost, SocketOwner {
  /** Open sessions, as the app sees them (for drains and rebalancing). */
  readonly sessions = new Set<StompSession<S>>();
  readonly stats: EndpointStats = newStats();
  private server: Server<ConnData> | undefined;
  private accepting = true;
  /** Per user with a connection here: how many, and the ledger they all draw on. */
  private readonly users = new Map<string, { connections: number; ledger: HoldLedger }>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private sessionCounter = 0;
  private readonly sessionPrefix = Math.random().toString(36).slice(2, 8);

  constructor(
    private readonly app: StompApp<S>,
    private readonly opts: EndpointOptions,
  ) {}

  /** Bun's server, needed for publish(); set once Bun.serve has returned. */
  attach(server: Server<ConnData>): void {
    this.server = server;
  }

  /**
   * Upgrades a request to a STOMP WebSocket; returns a Response only when it refuses. `clientIp` is
   * the address the server counts the socket under (serveMounts passes it to every mount).
   */
  upgrade(req: Request, server: Server<ConnData>, clientIp: string): Response | undefined {
    if (!this.accepting) return jsonError(503, "shutting_down", "this node is draining; connect to another");
    if (!originAllowed(req, this.opts.allowedOrigins)) {
      return jsonError(403, "origin_not_allowed", "pages of this origin may not connect (ALLOWED_ORIGINS)");
    }
    const offered = req.headers.get("sec-websocket-protocol");
    const subprotocol = selectSubprotocol(offered);
    if (offered && !subprotocol) {
      return jsonError(400, "unsupported_subprotocol", "offer v12.stomp, v11.stomp or v10.stomp, or none");
    }
    const data: ConnData = { owner: this, clientIp };
    const headers = subprotocol ? { "Sec-WebSocket-Protocol": subprotocol } : undefined;
    if (server.upgrade(req, { data, headers })) return undefined;
    return jsonError(426, "upgrade_required", "expected a WebSocket upgrade request");
  }

  /**
   * Publishes a MESSAGE frame to a topic's sockets. The caller says how many subscribe (its hub keeps
   * the count): asking Bun (subscriberCount) on every publish was 1.6% of the chat benchmark's samples.
   */
  publishMessage(topic: string, frame: string | Uint8Array, subscribers: number): void {
    if (!this.server) return;
    if (this.server.publish(topic, frame) === -1) this.stats.backpressure++;
    count(this.stats.framesOut, "MESSAGE", subscribers);
  }

  admit(userId: string): HoldLedger {
    const user = this.users.get(userId) ?? { connections: 0, ledger: userLedger(this.opts.limits.holds) };
    if (user.connections >= this.opts.maxConnectionsPerUser) {
      throw new StompError(
        "limit exceeded: connections per user",
        `at most ${this.opts.maxConnectionsPerUser}`,
      );
    }
    user.connections++;
    this.users.set(userId, user);
    return user.ledger;
  }

  /** The ledger of a user with connections here (for tests and status). */
  ledgerOf(userId: string): HoldLedger | undefined {
    return this.users.get(userId)?.ledger;
  }

  onOpen(ws: ServerWebSocket<ConnData>): void {
    if (!this.accepting) {
      ws.close(CloseCode.goingAway, "server shutting down");
      return;
    }
    const id = `${this.sessionPrefix}-${(++this.sessionCounter).toString(36)}`;
    const session = new StompSession(id, ws, this, this.app, this.opts);
    ws.data.session = session;
    this.sessions.add(session);
    this.stats.connectionsOpened++;
    this.ticker ??= setInterval(() => this.tick(), this.tickMs());
  }

  onMessage(ws: ServerWebSocket<ConnData>, message: string | Uint8Array): void {
    ws.data.session?.onBytes(message);
  }

  onPong(ws: ServerWebSocket<ConnData>, data: Uint8Array): void {
    ws.data.session?.onPong(data);
  }

  onClose(ws: ServerWebSocket<ConnData>, code = 1005): void {
    const session = ws.data.session;
    if (!session || !(this.sessions as Set<ServerSession>).delete(session)) return;
    this.stats.connectionsClosed++;
    this.stats.closes[code] = (this.stats.closes[code] ?? 0) + 1;
    try {
      session.onClose();
    } catch (err) {
      this.opts.log("error", "stomp close handler failed", errorFields(err));
    }
    const userId = session.admittedUser;
    const user = userId === undefined ? undefined : this.users.get(userId);
    if (user && --user.connections <= 0) this.users.delete(userId!);
    if (this.sessions.size === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  /**
   * Ends the authenticated sessions whose principal matches: ERROR with `x-error-code` and the
   * message, then a close with `closeCode`. Returns how many it ended.
   */
  endSessions(
    match: (p: Principal) => boolean,
    end: { message: string; details: string; closeCode: number; headers: Record<string, string> },
  ): number {
    let ended = 0;
    for (const s of this.sessions) {
      const p = s.authenticated;
      if (!p || s.state !== "connected" || !match(p)) continue;
      s.fail(end.message, end.details, end.closeCode, undefined, end.headers);
      ended++;
    }
    return ended;
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

  private tickMs(): number {
    return Math.max(25, Math.min(1000, Math.floor(this.opts.heartbeat.minClientMs / 4) || 1000));
  }

  private tick(): void {
    const now = performance.now();
    for (const s of this.sessions) s.tick(now);
  }
}
