import type { TokenBucket } from "../../ratelimit/token-bucket.ts";
import type { Frame, Headers, StompVersion } from "../codec/frame.ts";
import type { SimpleSend } from "../codec/simple-send.ts";
import type { HoldLedger } from "./holdings.ts";

/** The contract between the STOMP server and the applications that mount it (ws-node, presence-node). */
export type AckMode = "auto" | "client" | "client-individual";

export interface Principal {
  userId: string;
  username: string;
  /** When the credential expires (ms since the epoch): the session ends then (ERROR, close 4001). */
  expiresAt?: number;
  /** The login (refresh-token family) the credential belongs to: a logout ends its sessions. */
  familyId?: string;
}

export interface Subscription {
  readonly id: string;
  readonly destination: string;
  readonly ack: AckMode;
  readonly headers: Headers;
}

/** Headers a RECEIPT carries besides `receipt-id` (a SEND's stored seq, for instance). */
export type ReceiptHeaders = Readonly<Record<string, string>>;

/** Where the server sends non-fatal notices (rate limits, revoked subscriptions); handled by the server. */
export const ERRORS_DESTINATION = "/user/queue/errors";

export type SessionState = "connecting" | "connected" | "closing" | "closed";

/** The part of Bun's ServerWebSocket a session and its app use. */
export interface SessionSocket {
  send(data: string | Uint8Array): number;
  /** Runs `send`s in one write (Bun's cork), with the socket's room messages still queued before them. */
  cork<T>(sends: () => T): T;
  close(code?: number, reason?: string): void;
  terminate(): void;
  getBufferedAmount(): number;
  /** A WebSocket ping; its pong proves the client received everything sent before it. */
  ping(data?: string): number;
  /** Bun pub/sub topics: the fan-out publishes once per topic. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/**
 * A connection as an application sees it, in its hooks: always authenticated. `S` is the app's own
 * per-connection state, made by StompApp.newState on first use.
 */
export interface AppSession<S> {
  readonly id: string;
  readonly version: StompVersion;
  readonly principal: Principal;
  readonly state: SessionState;
  readonly subscriptions: ReadonlyMap<string, Subscription>;
  readonly appState: S;
  readonly ws: SessionSocket;
  /** What this connection holds (pending acks, ...), bounded per connection and per user. */
  readonly ledger: HoldLedger;
  /** Sends encoded frame bytes; returns Bun's send status (0 = dropped, -1 = queued under backpressure). */
  sendRaw(data: string | Uint8Array): number;
  /** A non-fatal notice on /user/queue/errors; false when the client does not listen there. */
  notify(code: string, message: string, extra?: Record<string, unknown>, receiptId?: string): boolean;
  /** Ends a subscription from the server side: a notice, or ERROR and close — never a silent stop. */
  revoke(subscriptionId: string, why: string, extra?: Record<string, unknown>): void;
  /** Sends ERROR, then closes once it is flushed. */
  fail(message: string, details?: string, closeCode?: number): void;
  /**
   * Resolves true once the client's WebSocket has received everything sent on the connection before
   * the call (a ping it answered with a pong), false if the connection ends first.
   */
  confirmReceived(): Promise<boolean>;
}

/**
 * What an application plugs into the STOMP server; authentication is the endpoint's (its verifyToken
 * option). Throwing a StompError from any hook sends ERROR (with receipt-id when the frame had one)
 * and closes the connection.
 */
export interface StompApp<S> {
  /** The app's per-connection state, made when one of its hooks first reads `appState`. */
  newState(): S;
  /**
   * Accepts or refuses a subscription. It may return a continuation, run after the RECEIPT is sent,
   * that starts delivering (a replay of missed messages, a presence snapshot).
   */
  subscribe(session: AppSession<S>, sub: Subscription): Promise<(() => void) | undefined>;
  unsubscribe(session: AppSession<S>, sub: Subscription): void;
  /**
   * Resolves once the message is durably accepted, optionally with headers for its RECEIPT (which
   * waits for it). Throwing a RefusedError refuses this SEND alone.
   */
  send(session: AppSession<S>, frame: Frame): Promise<ReceiptHeaders | undefined>;
  /**
   * Vets a SEND as it enters a transaction — destination, permission, body — without sending it,
   * so a SEND that COMMIT would refuse is refused at once instead of being held. Throws like send.
   */
  checkSend(session: AppSession<S>, frame: Frame): Promise<void>;
  /**
   * True when send() keeps this connection's SENDs of this kind in arrival order by itself (the rooms
   * app queues their appends in order, whatever lookups each waits on): the session then starts the
   * next SEND before this one's answer (a group commit can take them together) and answers them in
   * order. Without it, each SEND is answered before the next frame is handled.
   */
  pipelines?(session: AppSession<S>, frame: Frame): boolean;
  /**
   * The rate budget a SEND spends, when it is not the connection's SEND bucket (SEND_RATE_PER_SEC):
   * an app with several kinds of SEND (chat messages, typing signals) keeps one from spending the other's.
   */
  sendBudget?(session: AppSession<S>, frame: Frame): TokenBucket | undefined;
  /**
   * The fast path for SENDs that need no answer (typing signals): a SEND recognised from the raw
   * message (codec/simple-send: no receipt, no transaction, a tiny body) while nothing else of the
   * connection waits. True when the app took it in full — charged to its budget, checked, passed on —
   * with the outcome `send` would have had; false, having changed nothing, leaves it to the usual
   * path (which then answers anything unusual: a refusal, a rate limit). Never throws.
   */
  sendAtOnce?(session: AppSession<S>, send: SimpleSend): boolean;
  /** `id` is the MESSAGE's ack value as the client returned it. Throw for an unknown id. */
  ack(session: AppSession<S>, id: string, positive: boolean, subscriptionHint: string | undefined): void;
  /** A DISCONNECT frame arrived: everything sent so far reached the client before its RECEIPT. */
  disconnecting?(session: AppSession<S>): Promise<void>;
  closed(session: AppSession<S>): void;
}
