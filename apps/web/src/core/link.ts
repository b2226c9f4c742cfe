import {
  Client,
  type IFrame,
  type IMessage,
  type StompHeaders,
  type StompSubscription,
} from "@stomp/stompjs";
import { backoffDelay, RECONNECT_BACKOFF } from "./backoff.ts";
import { ACCOUNT_DELETED } from "./errors.ts";
import type { Session } from "./session.ts";
import { Store } from "./store.ts";

export type { IFrame, IMessage, StompSubscription };

export type LinkState =
  | { kind: "connecting"; attempt: number }
  | { kind: "online" }
  /** Waiting to retry; `offline` when the browser says the network is gone. */
  | { kind: "waiting"; attempt: number; retryAt: number; offline: boolean }
  | { kind: "stopped" };

/** A refusal or revocation on /user/queue/errors (docs/protocol.md, "Notices"). */
export interface Notice {
  code: string;
  message?: string;
  retryAfterMs?: number;
  subscription?: string;
  roomId?: string;
}

export interface LinkHandlers {
  /** Every (re)connect: make the subscriptions here. */
  onConnect(link: StompLink): void;
  onDisconnect?(): void;
  onNotice?(notice: Notice, receiptId: string | undefined): void;
  /** An ERROR on an established connection (it closes next): e.g. a SUBSCRIBE the server refused. */
  onRefused?(frame: IFrame): void;
}

const HEARTBEAT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One STOMP connection (chat at /ws or presence at /presence) that never gives up: after any close
 * it retries with exponential backoff and jitter (capped at 30 s; while the browser is offline, only
 * the cap), at once when the browser comes back online or the tab regains focus, each time with a fresh access token. Each attempt is a new
 * stompjs Client with its own reconnect turned off, so a failure anywhere — the token fetch
 * included — lands in the same retry path.
 */
export class StompLink {
  readonly state = new Store<LinkState>({ kind: "stopped" });
  private client: Client | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  /** The token of the last CONNECT, and whether the server refused it. */
  private lastToken = "";
  private authRefused = false;
  /** The server ended the session because its token expired (or was revoked): reconnect at once. */
  private renewing = false;

  constructor(
    private readonly path: string,
    private readonly session: Session,
    private readonly handlers: LinkHandlers,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    addEventListener("online", this.retryNow);
    addEventListener("offline", this.wentOffline);
    addEventListener("focus", this.retryNow);
    document.addEventListener("visibilitychange", this.onVisibility);
    void this.connect();
  }

  /** Disconnects cleanly (DISCONNECT, so the server saves what was delivered) and stops retrying. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    removeEventListener("online", this.retryNow);
    removeEventListener("offline", this.wentOffline);
    removeEventListener("focus", this.retryNow);
    document.removeEventListener("visibilitychange", this.onVisibility);
    const c = this.client;
    this.client = null;
    this.state.set({ kind: "stopped" });
    await c?.deactivate();
  }

  /** Skips the wait. Does nothing while connected or connecting. */
  retryNow = (): void => {
    const s = this.state.get();
    if (!this.running || s.kind === "online" || s.kind === "connecting") return;
    clearTimeout(this.timer);
    void this.connect();
  };

  get online(): boolean {
    return this.client?.connected === true;
  }

  subscribe(destination: string, onMessage: (m: IMessage) => void, headers: StompHeaders = {}) {
    return this.client?.connected ? this.client.subscribe(destination, onMessage, headers) : null;
  }

  /** False when not connected (the caller keeps the frame for later). With `onReceipt`, asks for a RECEIPT. */
  publish(destination: string, body: string, headers: StompHeaders, onReceipt?: () => void): boolean {
    const c = this.client;
    if (!c?.connected) return false;
    if (onReceipt && headers.receipt) c.watchForReceipt(headers.receipt, onReceipt);
    c.publish({ destination, body, headers: { "content-type": "application/json", ...headers } });
    return true;
  }

  private onVisibility = () => {
    if (document.visibilityState === "visible") this.retryNow();
  };

  /**
   * The browser says the network is gone (false "offline" reports do not happen; false "online"
   * ones do): an open socket is dead even if its close has not arrived yet, so drop it now and wait
   * for `online`, which retries at once.
   */
  private wentOffline = () => {
    const c = this.client;
    if (c) {
      this.client = null;
      c.forceDisconnect();
      void c.deactivate();
      this.handlers.onDisconnect?.();
      this.scheduleRetry();
      return;
    }
    const s = this.state.get();
    if (s.kind === "waiting") this.state.set({ ...s, offline: true });
  };

  private async connect(): Promise<void> {
    this.state.set({ kind: "connecting", attempt: this.attempt });
    let token: string;
    try {
      if (this.authRefused) await this.session.refresh(this.lastToken);
      token = await this.session.accessToken();
    } catch {
      if (this.session.state.get().status === "out") return void this.stop();
      return this.scheduleRetry();
    }
    if (!this.running) return;
    this.lastToken = token;
    this.authRefused = false;
    const client = new Client({
      brokerURL: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${this.path}`,
      connectHeaders: { Authorization: `Bearer ${token}` },
      reconnectDelay: 0,
      heartbeatIncoming: HEARTBEAT_MS,
      heartbeatOutgoing: HEARTBEAT_MS,
      connectionTimeout: CONNECT_TIMEOUT_MS,
      debug: () => {},
    });
    client.onConnect = () => {
      if (this.client !== client) return;
      this.attempt = 0;
      // First, so that a refused SEND or a revoked subscription is a notice, not a closed connection.
      client.subscribe("/user/queue/errors", (m) => this.notice(m));
      this.state.set({ kind: "online" });
      this.handlers.onConnect(this);
    };
    client.onStompError = (frame) => {
      const code = frame.headers["x-error-code"];
      if (!client.connected) {
        if (/authentication/i.test(frame.headers.message ?? "")) this.authRefused = true;
      } else if (code === "token_expired") {
        // A session lives as long as its access token: come back at once with a fresh one, quietly.
        this.renewing = true;
      } else if (code === "session_revoked" && frame.headers["x-revoked-reason"] === "account-deleted") {
        // Gone for good (deleted here or on another device): no refresh can help; say so, then stop.
        this.session.end(ACCOUNT_DELETED);
        this.renewing = true;
      } else if (code === "session_revoked") {
        // This login was ended (logout elsewhere, a reused refresh token): the refresh will say so.
        this.authRefused = true;
        this.renewing = true;
      } else if (this.client === client) this.handlers.onRefused?.(frame);
    };
    client.onWebSocketClose = () => {
      if (this.client !== client) return;
      this.client = null;
      void client.deactivate();
      this.handlers.onDisconnect?.();
      if (this.renewing) {
        this.renewing = false;
        void this.connect();
      } else this.scheduleRetry();
    };
    this.client = client;
    client.activate();
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    // Offline (a reliable answer when false): no point knocking; `online` retries at once, and the
    // longest wait stays as a fallback should that event never come.
    const offline = navigator.onLine === false;
    const delay = offline ? RECONNECT_BACKOFF.capMs : backoffDelay(this.attempt);
    this.state.set({ kind: "waiting", attempt: this.attempt, retryAt: Date.now() + delay, offline });
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  private notice(m: IMessage): void {
    let body: Notice;
    try {
      body = JSON.parse(m.body) as Notice;
    } catch {
      return;
    }
    this.handlers.onNotice?.(body, m.headers["receipt-id"]);
  }
}
