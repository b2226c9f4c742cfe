/**
 * A refusal the client must see as an ERROR frame. `fatal` errors end the connection, as the spec
 * requires for ERROR; the STOMP core always closes after an ERROR, so every StompError is fatal on
 * the wire. `closeCode` is the WebSocket close code used after the ERROR is flushed.
 */
export class StompError extends Error {
  override readonly name = "StompError";
  constructor(
    message: string,
    readonly details = "",
    readonly closeCode: number = CloseCode.policy,
  ) {
    super(message);
  }
}

/** WebSocket close codes the server uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocol: 1002,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  /** The client was too slow: its send buffer passed the limit (like Centrifugo's 3008). */
  slowConsumer: 4008,
  /** Heart-beats or CONNECT did not arrive in time. */
  timeout: 4000,
  /** The access token expired: reconnect with a fresh one (refresh first). */
  tokenExpired: 4001,
  /** The session was revoked (logout, a reused refresh token, the account deleted): log in again. */
  sessionRevoked: 4003,
} as const;

/**
 * A SEND the server will not take (rate limit, invalid body, bus unavailable). When the client listens
 * on /user/queue/errors it gets a notice there, with `receipt-id`, and stays connected; otherwise it
 * gets ERROR and the connection closes. Either way the refusal is never silent.
 */
export class RefusedError extends StompError {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message, "", CloseCode.policy);
  }
}
