import { escapeHeader, escapeModeFor } from "./escape.ts";
import type { Headers, StompVersion } from "./frame.ts";

/** A heart-beat: one EOL, sent as its own WebSocket message. */
export const HEARTBEAT = "\n" as const;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Encodes a frame with LF line ends, escaping header names and values as `version` requires
 * (never in CONNECT, STOMP or CONNECTED). A non-empty body always gets a `content-length` in bytes,
 * replacing any given one, so bodies may hold NULs.
 *
 * Returns a string, to be sent as a WebSocket text message, unless the body bytes are not valid
 * UTF-8: then the frame is returned as bytes, for a binary message.
 */
export function encodeFrame(
  command: string,
  headers: Headers | ReadonlyArray<readonly [string, string]>,
  body: string | Uint8Array | undefined,
  version: StompVersion,
): string | Uint8Array {
  let text: string;
  let bodyBytes = 0;
  if (body === undefined) text = "";
  else if (typeof body === "string") {
    text = body;
    bodyBytes = body.length === 0 ? 0 : Buffer.byteLength(body, "utf8");
  } else {
    bodyBytes = body.length;
    const decoded = decodeUtf8(body);
    if (decoded === undefined) return encodeBinary(encodeHead(command, headers, version, bodyBytes), body);
    text = decoded;
  }
  const parts = headParts(command, headers, version, bodyBytes);
  parts.push(text, "\0");
  return parts.join("");
}

/** Command, headers and the blank line. */
function encodeHead(
  command: string,
  headers: Headers | ReadonlyArray<readonly [string, string]>,
  version: StompVersion,
  bodyBytes: number,
): string {
  return headParts(command, headers, version, bodyBytes).join("");
}

/**
 * The head as pieces, joined once by the caller: appending a template per header made two rope
 * strings per header, garbage for the collector at every frame (a MESSAGE and a RECEIPT per SEND).
 */
function headParts(
  command: string,
  headers: Headers | ReadonlyArray<readonly [string, string]>,
  version: StompVersion,
  bodyBytes: number,
): string[] {
  const mode = escapeModeFor(command, version);
  const parts = [command, "\n"];
  if (isPairs(headers)) {
    for (const [name, value] of headers) {
      if (name !== "content-length")
        parts.push(escapeHeader(name, mode, true), ":", escapeHeader(value, mode), "\n");
    }
  } else {
    for (const name in headers) {
      if (name !== "content-length") {
        parts.push(escapeHeader(name, mode, true), ":", escapeHeader(headers[name]!, mode), "\n");
      }
    }
  }
  if (bodyBytes > 0) parts.push("content-length:", String(bodyBytes), "\n");
  parts.push("\n");
  return parts;
}

function isPairs(
  headers: Headers | ReadonlyArray<readonly [string, string]>,
): headers is ReadonlyArray<readonly [string, string]> {
  return Array.isArray(headers);
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function encodeBinary(head: string, body: Uint8Array): Uint8Array {
  const headBytes = encoder.encode(head);
  const frame = new Uint8Array(headBytes.length + body.length + 1);
  frame.set(headBytes);
  frame.set(body, headBytes.length);
  return frame;
}
