/** Limits a parser enforces, so that memory stays bounded whatever a client sends. */
export interface ParserLimits {
  /** Largest frame, from its command to its NUL; also the most bytes held for an incomplete frame. */
  maxBufferedBytes: number;
  /** Most header lines in one frame (repeated headers count). */
  maxHeaders: number;
  /** Longest command or header line, in bytes, without its EOL. */
  maxHeaderLineBytes: number;
  /** Largest body, whether declared by content-length or ended by NUL. */
  maxBodyBytes: number;
}

export type LimitName = keyof ParserLimits;

/**
 * A malformed frame or an exceeded limit. Fatal: the connection must end. The message is meant for
 * the client and safe to put in an ERROR frame; `limit` names the limit when one was exceeded.
 */
export class StompParseError extends Error {
  override readonly name = "StompParseError";
  constructor(
    message: string,
    readonly limit?: LimitName,
  ) {
    super(message);
  }
}
