import type { ParserLimits } from "./parse-error.ts";

/** A SEND recognised by `matchSimpleSend`: the only headers such a frame may have, and its body. */
export interface SimpleSend {
  readonly destination: string;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** Longest chunk looked at: signals are tiny, anything longer is left to the parser. */
const MAX_CHARS = 1024;

/**
 * Recognises a WebSocket text message that is exactly one SEND frame of the simplest shape, without
 * the streaming parser: `SEND`, then only `destination`, `content-type` and `content-length` (each at
 * most once, content-length matching the body), a blank line, a body, one NUL at the very end.
 * Printable ASCII only (LF as line ends; no CR, no backslash in the head, no other control
 * character anywhere), within every parser limit — so the parser would read the same frame, with the
 * same headers, from it (no escaping, CRLF or UTF-8 question can arise). Anything else, including
 * other headers such as `receipt` or `transaction`, is undefined: the parser then handles the chunk
 * as usual. Never throws.
 */
export function matchSimpleSend(chunk: string, limits: ParserLimits): SimpleSend | undefined {
  const n = chunk.length;
  if (n > MAX_CHARS || n > limits.maxBufferedBytes || !chunk.startsWith("SEND\n")) return undefined;
  if (chunk.charCodeAt(n - 1) !== 0) return undefined;
  let destination: string | undefined;
  let contentType: string | undefined;
  let contentLength: string | undefined;
  let headers = 0;
  let pos = 5;
  for (;;) {
    const lf = chunk.indexOf("\n", pos);
    if (lf === -1) return undefined;
    if (lf === pos) break;
    if (lf - pos > limits.maxHeaderLineBytes || ++headers > 3) return undefined;
    const colon = chunk.indexOf(":", pos);
    if (colon === -1 || colon > lf) return undefined;
    const value = chunk.slice(colon + 1, lf);
    switch (chunk.slice(pos, colon)) {
      case "destination":
        if (destination !== undefined) return undefined;
        destination = value;
        break;
      case "content-type":
        if (contentType !== undefined) return undefined;
        contentType = value;
        break;
      case "content-length":
        if (contentLength !== undefined) return undefined;
        contentLength = value;
        break;
      default:
        return undefined;
    }
    pos = lf + 1;
  }
  const bodyStart = pos + 1;
  for (let i = 5; i < n - 1; i++) {
    const c = chunk.charCodeAt(i);
    if (c > 126 || (c < 32 && (c !== 10 || i >= bodyStart)) || (c === 92 && i < bodyStart)) return undefined;
  }
  const bodyLength = n - 1 - bodyStart;
  if (destination === undefined || bodyLength > limits.maxBodyBytes || headers > limits.maxHeaders) {
    return undefined;
  }
  if (contentLength !== undefined && contentLength !== String(bodyLength)) return undefined;
  return { destination, contentType, body: chunk.slice(bodyStart, n - 1) };
}
