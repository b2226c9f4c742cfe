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
  /** A backing service is unavailable: reconnect after a pause (RFC 6455's "Try Again Later"). */
  tryAgainLater: 1013,
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
 * A SEND or SUBSCRIBE the server will not take (rate limit, invalid body, bus or store unavailable).
 * When the client listens on /user/queue/errors it gets a notice there, with `receipt-id`, and stays
 * connected; otherwise it gets ERROR — carrying `x-error-code` and, when there is one,
 * `x-retry-after-ms` — and the connection closes. Either way the refusal is never silent.
 */
export class RefusedError extends StompError {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    closeCode: number = CloseCode.policy,
  ) {
    super(message, "", closeCode);
  }

  /** The ERROR frame's headers for this refusal, when the client does not listen for notices. */
  headers(): Record<string, string> {
    const h: Record<string, string> = { "x-error-code": this.code };
    if (typeof this.extra.retryAfterMs === "number") h["x-retry-after-ms"] = String(this.extra.retryAfterMs);
    return h;
  }
}
