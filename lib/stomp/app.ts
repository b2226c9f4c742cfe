import type { Frame, Headers } from "./frame.ts";
import type { ParserLimits } from "./parser.ts";
import type { StompSession } from "./session.ts";

/** The contract between the STOMP core and the applications that mount it. */
export type AckMode = "auto" | "client" | "client-individual";

export interface Principal {
  userId: string;
  username: string;
}

export interface Subscription {
  readonly id: string;
  readonly destination: string;
  readonly ack: AckMode;
  readonly headers: Headers;
}

/** Where the core sends non-fatal notices (rate limits, revoked subscriptions); handled by the core. */
export const ERRORS_DESTINATION = "/user/queue/errors";

/**
 * What an application (ws-node, presence-node) plugs into the STOMP core. Throwing a StompError from
 * any hook sends ERROR (with receipt-id when the frame had one) and closes the connection.
 */
export interface StompApp {
  authenticate(headers: Headers, session: StompSession): Promise<Principal>;
  /**
   * Accepts or refuses a subscription. It may return a continuation, run after the RECEIPT is sent,
   * that starts delivering (a replay of missed messages, a presence snapshot).
   */
  subscribe(session: StompSession, sub: Subscription): Promise<(() => void) | undefined>;
  unsubscribe(session: StompSession, sub: Subscription): void;
  /** Resolves once the message is durably accepted; the RECEIPT waits for it. */
  send(session: StompSession, frame: Frame): Promise<void>;
  /** `id` is the MESSAGE's ack value as the client returned it. Throw for an unknown id. */
  ack(session: StompSession, id: string, positive: boolean, subscriptionHint: string | undefined): void;
  /** A DISCONNECT frame arrived: everything sent so far reached the client before its RECEIPT. */
  disconnecting?(session: StompSession): Promise<void>;
  closed(session: StompSession): void;
}

export interface SessionLimits {
  parser: ParserLimits;
  maxSubscriptions: number;
  /** Frames parsed but not yet handled (a client pipelining past slow SENDs). */
  maxQueuedFrames: number;
}
