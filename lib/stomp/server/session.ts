import { errorFields, type Logger } from "../../log/index.ts";
import type { Frame, Headers, StompVersion } from "../codec/frame.ts";
import { FrameParser, type ParserLimits, StompParseError } from "../codec/parser.ts";
import { encodeFrame, HEARTBEAT } from "../codec/serializer.ts";
import { matchSimpleSend } from "../codec/simple-send.ts";
import {
  type AppSession,
  ERRORS_DESTINATION,
  type Principal,
  type ReceiptHeaders,
  type SessionSocket,
  type SessionState,
  type StompApp,
  type Subscription,
} from "./app.ts";
import { authenticateConnect, type VerifyToken } from "./authenticate.ts";
import { CloseCode, RefusedError, StompError } from "./errors.ts";
import { connectionLedger, frameBytes, type HoldLedger, type HoldLimits, headerBytes } from "./holdings.ts";
import {
  type HeartbeatPolicy,
  negotiateHeartbeat,
  negotiateVersion,
  SUPPORTED_VERSIONS,
} from "./negotiate.ts";
import { SendArrivals, tooManyWaiting } from "./send-arrivals.ts";
import { count, countSent, type EndpointStats } from "./stats.ts";
import { TransactionLog } from "./transactions.ts";

export interface SessionLimits {
  parser: ParserLimits;
  /** Open transactions per connection. */
  maxTransactions: number;
  /**
   * What a client can make the node hold, in counts and bytes, per connection and per user: frames
   * parsed but not yet handled, frames in open transactions, subscriptions, unacknowledged messages.
   */
  holds: HoldLimits;
  /** SEND token bucket per connection. */
  sendRate: { perSec: number; burst: number };
}

/** What every session of one endpoint shares. */
export interface SessionOptions {
  serverName: string;
  verifyToken: VerifyToken;
  limits: SessionLimits;
  heartbeat: HeartbeatPolicy;
  connectTimeoutMs: number;
  log: Logger;
}

/** The endpoint as its sessions see it: where they count traffic, and who admits a user's connection. */
export interface SessionHost {
  readonly stats: EndpointStats;
  /**
   * Counts an authenticated connection of this user and returns the ledger all of the user's
   * connections here draw on; throws StompError past the per-user connection limit.
   */
  admit(userId: string): HoldLedger;
}

/** A session as its endpoint drives it: bytes in, periodic checks, close. */
export interface ServerSession {
  readonly ws: SessionSocket;
  readonly state: SessionState;
  /** The user whose connection count this session holds (set once admitted). */
  readonly admittedUser: string | undefined;
  /** Who the connection authenticated as, once it has. */
  readonly authenticated: Principal | undefined;
  /** Sends ERROR (with extra headers such as x-error-code), then closes once it is flushed. */
  fail(message: string, details?: string, closeCode?: number, receiptId?: string, extra?: Headers): void;
  onBytes(data: string | Uint8Array): void;
  /** A WebSocket pong: confirms what was sent before its ping (confirmReceived). */
  onPong(data: Uint8Array): void;
  /** Heart-beats out, dead peers and slow CONNECTs closed; `now` from performance.now(). */
  tick(now: number): void;
  close(code: number, reason: string): void;
  onClose(): void;
}

/**
 * One STOMP connection: framing, CONNECT and authentication, heart-beats, receipts, transactions,
 * the SEND rate limit and errors. `S` is its application's per-connection state.
 */
export class StompSession<S> implements AppSession<S>, ServerSession {
  version: StompVersion = "1.2";
  state: SessionState = "connecting";
  admittedUser: string | undefined;
  readonly subscriptions = new Map<string, Subscription>();
  readonly ledger: HoldLedger;
  private who: Principal | undefined;
  private ownState: S | undefined;
  private readonly openedAt = performance.now();
  private lastReceivedAt = this.openedAt;
  private lastSentAt = this.openedAt;
  private sendEveryMs = 0;
  private expectEveryMs = 0;
  private readonly parser: FrameParser;
  /** Frames parsed and not yet handled, with the bytes each holds in the ledger. */
  private queue: { frame: Frame; bytes: number }[] = [];
  private draining = false;
  private transactions: TransactionLog | undefined;
  private readonly arrivals: SendArrivals;
  /** The client's subscription to /user/queue/errors, if any, and the notices sent there. */
  private wantsNotices = false;
  private noticeSubscription = "";
  private noticeSeq = 0;
  /** Delivery confirmations waiting for the pong of their ping, in ping order. */
  private confirmations: { n: number; done: (received: boolean) => void }[] = [];
  private pings = 0;
  /** Settles when every pipelined SEND so far has been answered (undefined: none is waiting). */
  private answering: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly ws: SessionSocket,
    private readonly host: SessionHost,
    private readonly app: StompApp<S>,
    private readonly o: SessionOptions,
  ) {
    this.parser = new FrameParser(o.limits.parser, "1.2");
    this.ledger = connectionLedger(o.limits.holds);
    // A kind of SEND with its own budget (StompApp.sendBudget: typing signals) never spends the chat one.
    this.arrivals = new SendArrivals(o.limits.sendRate, host.stats, (f) => this.app.sendBudget?.(this, f));
  }

  /** Who the connection authenticated as; apps see sessions only once it has. */
  get principal(): Principal {
    if (!this.who) throw new Error("session is not authenticated");
    return this.who;
  }

  get authenticated(): Principal | undefined {
    return this.who;
  }

  get appState(): S {
    this.ownState ??= this.app.newState();
    return this.ownState;
  }

  /** Sends a frame or heart-beat; returns Bun's send status (0 = dropped, -1 = queued under backpressure). */
  sendRaw(data: string | Uint8Array): number {
    if (this.state === "closed") return 0;
    this.lastSentAt = performance.now();
    const status = this.ws.send(data);
    countSent(this.host.stats, data, status);
    return status;
  }

  sendFrame(
    command: string,
    headers: Headers | ReadonlyArray<readonly [string, string]>,
    body?: string,
  ): number {
    return this.sendRaw(encodeFrame(command, headers, body, this.version));
  }

  confirmReceived(): Promise<boolean> {
    if (this.state !== "connected") return Promise.resolve(false);
    const n = ++this.pings;
    // Bun answers its own idle pings itself; ours carry a number, so their pongs can be told apart.
    return new Promise<boolean>((done) => {
      this.confirmations.push({ n, done });
      this.ws.ping(`c${n}`);
    });
  }

  onPong(data: Uint8Array): void {
    // "c<n>" in ASCII; anything else answers a ping of Bun's own.
    if (data.length < 2 || data[0] !== 0x63) return;
    let n = 0;
    for (let i = 1; i < data.length; i++) {
      const digit = data[i]! - 0x30;
      if (digit < 0 || digit > 9) return;
      n = n * 10 + digit;
    }
    while (this.confirmations.length > 0 && this.confirmations[0]!.n <= n)
      this.confirmations.shift()!.done(true);
  }

  tick(now: number): void {
    if (this.state === "connecting") {
      if (now - this.openedAt > this.o.connectTimeoutMs) {
        this.fail("CONNECT timeout", `no CONNECT within ${this.o.connectTimeoutMs} ms`, CloseCode.timeout);
      }
      return;
    }
    if (this.state !== "connected") return;
    const expiresAt = this.who?.expiresAt;
    if (expiresAt !== undefined && Date.now() >= expiresAt) {
      this.fail(
        "token expired",
        "the access token of this session has expired; reconnect with a fresh one",
        CloseCode.tokenExpired,
        undefined,
        { "x-error-code": "token_expired" },
      );
      return;
    }
    // Peers may be late (background tabs throttle timers): allow twice the interval.
    if (this.expectEveryMs > 0 && now - this.lastReceivedAt > 2 * this.expectEveryMs) {
      this.host.stats.heartbeatTimeouts++;
      this.fail(
        "heart-beat timeout",
        `nothing received for ${Math.round(now - this.lastReceivedAt)} ms`,
        CloseCode.timeout,
      );
      return;
    }
    if (this.sendEveryMs > 0 && now - this.lastSentAt >= this.sendEveryMs) this.sendRaw(HEARTBEAT);
  }

  /** A non-fatal notice on /user/queue/errors; false when the client does not listen there. */
  notify(code: string, message: string, extra: Record<string, unknown> = {}, receiptId?: string): boolean {
    if (!this.wantsNotices) return false;
    const headers: [string, string][] = [
      ["destination", ERRORS_DESTINATION],
      ["subscription", this.noticeSubscription],
      ["message-id", `n-${this.id}-${++this.noticeSeq}`],
      ["content-type", "application/json"],
    ];
    if (receiptId !== undefined) headers.push(["receipt-id", receiptId]);
    this.sendFrame("MESSAGE", headers, JSON.stringify({ code, message, ...extra }));
    return true;
  }

  /**
   * Ends a subscription from the server side (membership revoked): a `subscription_revoked` notice
   * when the client listens on /user/queue/errors, else ERROR and close — never a silent stop.
   */
  revoke(subscriptionId: string, why: string, extra: Record<string, unknown> = {}): void {
    const sub = this.subscriptions.get(subscriptionId);
    if (!sub || this.state !== "connected") return;
    this.dropSubscription(sub);
    const message = `subscription ${subscriptionId} ended: ${why}`;
    if (!this.notify("subscription_revoked", message, { subscription: subscriptionId, ...extra })) {
      this.fail("subscription revoked", message);
    }
  }

  /** Sends ERROR, then closes once it is flushed. Idempotent. */
  fail(
    message: string,
    details = "",
    closeCode: number = CloseCode.policy,
    receiptId?: string,
    extra?: Headers,
  ): void {
    if (this.state === "closing" || this.state === "closed") return;
    const headers: [string, string][] = [["message", message.replace(/[\r\n]/g, " ")]];
    if (receiptId !== undefined) headers.push(["receipt-id", receiptId]);
    if (extra) for (const k in extra) headers.push([k, extra[k]!]);
    headers.push(["content-type", "text/plain"]);
    this.sendFrame("ERROR", headers, details || message);
    this.close(closeCode, message);
  }

  close(code: number, reason: string): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.state = "closing";
    this.queue = [];
    // WebSocket close reasons are limited to 123 bytes.
    this.ws.close(code, reason.slice(0, 100));
  }

  /** Bytes from the socket: parse, queue, and handle frames one at a time in order. */
  onBytes(data: string | Uint8Array): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.lastReceivedAt = performance.now();
    if (typeof data === "string" && this.takenAtOnce(data)) return;
    let frames: Frame[];
    try {
      frames = this.parser.push(data);
    } catch (err) {
      if (err instanceof StompParseError) {
        const code = err.limit ? CloseCode.tooBig : CloseCode.protocol;
        this.fail(err.limit ? `limit exceeded: ${err.limit}` : "malformed frame", err.message, code);
        return;
      }
      throw err;
    }
    for (const frame of frames) {
      const bytes = frameBytes(frame);
      const fits = this.ledger.tryTake("queued", 1, bytes);
      if (frame.command === "SEND" && !this.admitSend(frame, !fits)) {
        if (fits) this.ledger.release("queued", 1, bytes);
        continue;
      }
      if (!fits) {
        // Parsed but not yet handled: a client pipelining far ahead of slow SENDs.
        const bound = this.o.limits.holds.queued;
        this.fail(
          "limit exceeded: frames in flight",
          `at most ${bound.perConnection.count} frames (${bound.perConnection.bytes} bytes) may wait per connection, ` +
            `${bound.perUser.count} (${bound.perUser.bytes} bytes) per user`,
        );
        return;
      }
      this.queue.push({ frame, bytes });
    }
    if (this.queue.length > 0 && !this.draining) void this.drain();
  }

  /**
   * The app's fast path (StompApp.sendAtOnce) for a whole simple SEND in one message, only when it
   * cannot overtake anything: connected, no frame of the connection queued or being handled, no
   * partial frame held. Such a SEND holds nothing, so the frames-in-flight bound has nothing to count.
   */
  private takenAtOnce(data: string): boolean {
    if (!this.app.sendAtOnce || this.state !== "connected" || this.draining || this.queue.length > 0) {
      return false;
    }
    if (this.parser.bufferedBytes > 0) return false;
    const send = matchSimpleSend(data, this.o.limits.parser);
    if (!send || !this.app.sendAtOnce(this, send)) return false;
    count(this.host.stats.framesIn, "SEND");
    this.host.stats.sentAtOnce++;
    return true;
  }

  /**
   * A SEND as it arrives: charged to the rate limit, or refused when too many frames wait already.
   * A client listening for notices gets each refusal at once, one by one, and stays connected; false
   * means it was answered so. (Transactions are charged at COMMIT; frames before CONNECT in their turn.)
   */
  private admitSend(f: Frame, full: boolean): boolean {
    if (this.state !== "connected" || f.headers.transaction !== undefined) return true;
    const refusal = full
      ? tooManyWaiting(this.o.limits.holds.queued.perConnection.count)
      : this.arrivals.charge(f);
    if (!refusal) return true;
    const extra = { destination: f.headers.destination, outcome: "not_written", ...refusal.extra };
    if (this.notify(refusal.code, refusal.message, extra, f.headers.receipt)) {
      count(this.host.stats.framesIn, f.command);
      return false;
    }
    // Not listening: a full queue ends the connection (below); a rate limit is refused in its turn.
    if (!full) this.arrivals.defer(f, refusal);
    return true;
  }

  onClose(): void {
    if (this.state === "closed") return;
    const wasConnected = this.who !== undefined;
    this.state = "closed";
    this.queue = [];
    this.transactions = undefined; // open transactions are aborted: their frames are discarded
    for (const c of this.confirmations.splice(0)) c.done(false);
    try {
      if (wasConnected) this.app.closed(this);
    } finally {
      this.ledger.close(); // the user's ledger gets back all this connection held
    }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && (this.state === "connecting" || this.state === "connected")) {
        const { frame, bytes } = this.queue.shift()!;
        count(this.host.stats.framesIn, frame.command);
        if (this.pipelines(frame)) {
          this.pipeline(frame, bytes);
          continue;
        }
        // Any other frame waits until the SENDs before it are answered.
        if (this.answering) await this.answering;
        this.ledger.release("queued", 1, bytes);
        if (this.state !== "connecting" && this.state !== "connected") break;
        try {
          await this.handle(frame);
        } catch (err) {
          this.failFor(frame, err);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private pipelines(frame: Frame): boolean {
    return (
      frame.command === "SEND" &&
      this.state === "connected" &&
      frame.headers.destination !== undefined &&
      frame.headers.transaction === undefined &&
      this.app.pipelines?.(this, frame) === true
    );
  }

  /**
   * Starts a SEND now and answers it (RECEIPT, notice or ERROR) after every SEND before it; it holds
   * its place among the frames that may wait on the connection until then. Nothing is answered after
   * an ERROR.
   */
  private pipeline(frame: Frame, bytes: number): void {
    const outcome = this.trySend(frame).then(
      (sent) => ({ ok: true as const, sent }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    const answered = (this.answering ?? Promise.resolve())
      .then(() => outcome)
      .then((o) => {
        this.ledger.release("queued", 1, bytes);
        if (this.answering === answered) this.answering = undefined;
        if (this.state !== "connected") return;
        if (!o.ok) this.failFor(frame, o.err);
        else if (o.sent) this.receipt(frame, o.sent.receipt);
      })
      .catch((err: unknown) => this.failFor(frame, err));
    this.answering = answered;
  }

  private failFor(frame: Frame, err: unknown): void {
    const receipt = frame.headers.receipt;
    if (err instanceof RefusedError) {
      const headers = err.headers();
      // A refused SEND to a client not listening for notices: the ERROR says what became of it.
      if (frame.command === "SEND") headers.outcome = String(err.extra.outcome ?? "not_written");
      this.fail(err.message, err.details, err.closeCode, receipt, headers);
    } else if (err instanceof StompError) {
      this.fail(err.message, err.details, err.closeCode, receipt);
    } else {
      this.o.log("error", "stomp handler failed", { command: frame.command, ...errorFields(err) });
      this.fail("internal error", "the server could not process the frame", CloseCode.internal, receipt);
    }
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.state === "connecting") return this.handleConnect(frame);
    const h = frame.headers;
    switch (frame.command) {
      case "SEND": {
        if (!h.destination) throw new StompError("missing header: destination");
        if (h.transaction !== undefined) return this.inTransaction(h.transaction, frame);
        const sent = await this.trySend(frame);
        if (sent) this.receipt(frame, sent.receipt);
        return;
      }
      case "SUBSCRIBE":
        return this.handleSubscribe(frame);
      case "UNSUBSCRIBE": {
        const id = h.id;
        if (id === undefined) throw new StompError("missing header: id");
        if (id === this.noticeSubscription && this.wantsNotices) {
          this.wantsNotices = false;
          this.noticeSubscription = "";
          return this.receipt(frame);
        }
        const sub = this.subscriptions.get(id);
        if (!sub) throw new StompError("unknown subscription", `no subscription with id ${id}`);
        this.dropSubscription(sub);
        return this.receipt(frame);
      }
      case "ACK":
      case "NACK": {
        const id = this.version === "1.2" ? h.id : h["message-id"];
        if (id === undefined)
          throw new StompError(`missing header: ${this.version === "1.2" ? "id" : "message-id"}`);
        if (h.transaction !== undefined) return this.inTransaction(h.transaction, frame);
        this.app.ack(this, id, frame.command === "ACK", h.subscription);
        return this.receipt(frame);
      }
      case "BEGIN":
        this.transactionsLog().begin(required(h, "transaction"));
        return this.receipt(frame);
      case "COMMIT": {
        const frames = this.transactionsLog().take(required(h, "transaction"));
        await this.commit(frames);
        return this.receipt(frame);
      }
      case "ABORT":
        this.transactionsLog().take(required(h, "transaction"));
        return this.receipt(frame);
      case "DISCONNECT":
        await this.app.disconnecting?.(this);
        this.receipt(frame);
        this.close(CloseCode.normal, "disconnect");
        return;
      case "CONNECT":
      case "STOMP":
        throw new StompError("already connected");
      default:
        throw new StompError(
          "unknown command",
          `unknown command ${JSON.stringify(frame.command.slice(0, 40))}`,
        );
    }
  }

  private async handleConnect(frame: Frame): Promise<void> {
    if (frame.command !== "CONNECT" && frame.command !== "STOMP") {
      throw new StompError(
        "expected CONNECT",
        `the first frame must be CONNECT or STOMP, got ${frame.command.slice(0, 40)}`,
      );
    }
    const h = frame.headers;
    const version = negotiateVersion(h["accept-version"]);
    if (!version) {
      this.fail(
        "unsupported version",
        `supported versions are ${SUPPORTED_VERSIONS.join(",")}`,
        CloseCode.protocol,
        undefined,
        {
          version: [...SUPPORTED_VERSIONS].reverse().join(","),
        },
      );
      return;
    }
    this.version = version;
    this.parser.version = version;
    const hb = negotiateHeartbeat(version === "1.0" ? undefined : h["heart-beat"], this.o.heartbeat);
    if (!hb) throw new StompError("malformed header: heart-beat", "heart-beat must be two integers: cx,cy");
    const principal = await authenticateConnect(h, this.o.verifyToken);
    if (this.state !== "connecting") return;
    const userLedger = this.host.admit(principal.userId); // throws past the connections per user
    this.admittedUser = principal.userId;
    this.ledger.attach(userLedger);
    this.who = principal;
    this.sendEveryMs = hb.plan.sendEveryMs;
    this.expectEveryMs = hb.plan.expectEveryMs;
    this.state = "connected";
    this.sendFrame("CONNECTED", [
      ["version", version],
      ["heart-beat", hb.reply],
      ["session", this.id],
      ["server", this.o.serverName],
      ["user-name", principal.username],
    ]);
  }

  private async handleSubscribe(frame: Frame): Promise<void> {
    const h = frame.headers;
    const destination = h.destination;
    if (!destination) throw new StompError("missing header: destination");
    // STOMP 1.0 made the id optional; later versions require it. Default it to the destination.
    const id = h.id ?? (this.version === "1.0" ? destination : undefined);
    if (id === undefined) throw new StompError("missing header: id");
    if (this.subscriptions.has(id) || (this.wantsNotices && id === this.noticeSubscription)) {
      throw new StompError("duplicate subscription id", `subscription ${id} already exists`);
    }
    const ack = h.ack ?? "auto";
    if (ack !== "auto" && ack !== "client" && ack !== "client-individual") {
      throw new StompError("invalid header: ack", "ack must be auto, client or client-individual");
    }
    if (destination === ERRORS_DESTINATION) {
      this.wantsNotices = true;
      this.noticeSubscription = id;
      return this.receipt(frame);
    }
    this.ledger.take("subscriptions", 1, headerBytes(h));
    const sub: Subscription = { id, destination, ack, headers: h };
    this.subscriptions.set(id, sub);
    let start: (() => void) | undefined;
    try {
      start = await this.app.subscribe(this, sub);
    } catch (err) {
      this.subscriptions.delete(id);
      this.ledger.release("subscriptions", 1, headerBytes(h));
      // A refusal the client can retry (a store outage) need not cost it the connection.
      if (err instanceof RefusedError) {
        const extra = { subscription: id, destination, ...err.extra };
        if (this.notify(err.code, err.message, extra, h.receipt)) return;
      }
      throw err;
    }
    // The RECEIPT comes first, so a client waiting on it sees the first messages after it.
    this.receipt(frame);
    if (start && this.state === "connected") start();
  }

  /** Ends a subscription on this side: the app lets go of it and the ledger gets its bytes back. */
  private dropSubscription(sub: Subscription): void {
    this.subscriptions.delete(sub.id);
    this.ledger.release("subscriptions", 1, headerBytes(sub.headers));
    this.app.unsubscribe(this, sub);
  }

  private async commit(frames: Frame[]): Promise<void> {
    for (const f of frames) {
      if (f.command === "SEND") {
        // Rate-limited and vetted when it entered the transaction; the app checks it again.
        if (!(await this.refusable(f, () => this.app.send(this, f).then(() => true)))) return;
      } else {
        const id = (this.version === "1.2" ? f.headers.id : f.headers["message-id"])!;
        this.app.ack(this, id, f.command === "ACK", f.headers.subscription);
      }
    }
  }

  /**
   * Rate limit, then the app; a refusal becomes a notice or an ERROR (never a silent drop), saying
   * whether the message was certainly not written (`not_written`, the default) or may have been.
   */
  private trySend(frame: Frame): Promise<{ receipt: ReceiptHeaders | undefined } | undefined> {
    return this.refusable(frame, async () => {
      this.arrivals.beforeSend(frame);
      return { receipt: await this.app.send(this, frame) };
    });
  }

  /**
   * Runs a step that may refuse the SEND: its result when it passed; undefined when it was refused
   * with a notice on /user/queue/errors; throws (ERROR and close) when the client does not listen there.
   */
  private async refusable<T>(frame: Frame, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await step();
    } catch (err) {
      if (!(err instanceof RefusedError)) throw err;
      const extra = { destination: frame.headers.destination, outcome: "not_written", ...err.extra };
      if (this.notify(err.code, err.message, extra, frame.headers.receipt)) return undefined;
      throw err;
    }
  }

  private receipt(frame: Frame, extra?: ReceiptHeaders): void {
    const r = frame.headers.receipt;
    if (r === undefined || this.state === "closed") return;
    const headers: [string, string][] = [["receipt-id", r]];
    if (extra) for (const k in extra) headers.push([k, extra[k]!]);
    // A SEND's RECEIPT usually follows the sender's own copy of the message, which the room's publish
    // has queued for this socket; a send drains that queue first, and corked the two leave in one write
    // instead of two (half the sender's syscalls in a chat).
    this.ws.cork(() => this.sendFrame("RECEIPT", headers));
  }

  private transactionsLog(): TransactionLog {
    this.transactions ??= new TransactionLog(this.o.limits.maxTransactions, this.ledger);
    return this.transactions;
  }

  /**
   * Holds a frame for COMMIT. A SEND takes its rate-limit token and is vetted by the app now, so one
   * that would be refused never waits in memory; the ledger bounds what does.
   */
  private async inTransaction(name: string, frame: Frame): Promise<void> {
    const log = this.transactionsLog();
    log.require(name);
    if (frame.command === "SEND") {
      const vetted = await this.refusable(frame, async () => {
        const refusal = this.arrivals.charge(frame);
        if (refusal) throw refusal;
        await this.app.checkSend(this, frame);
        return true;
      });
      if (!vetted || this.state !== "connected") return;
    }
    log.add(name, frame);
    this.receipt(frame);
  }
}

function required(h: Headers, name: string): string {
  const v = h[name];
  if (v === undefined) throw new StompError(`missing header: ${name}`);
  return v;
}
