import type { StompVersion } from "./frame.ts";

/**
 * Header escaping rules. 1.2 escapes `\\ \n \r :`; 1.1 has no `\r` escape; 1.0 has none. CONNECT,
 * STOMP and CONNECTED are never escaped in any version, so that a client can negotiate before it
 * knows which rules apply.
 */
export type EscapeMode = "none" | "1.1" | "1.2";

export function escapeModeFor(command: string, version: StompVersion): EscapeMode {
  if (version === "1.0" || command === "CONNECT" || command === "STOMP" || command === "CONNECTED")
    return "none";
  return version;
}

const NEEDS_ESCAPE_12 = /[\\\r\n:]/;
const NEEDS_ESCAPE_11 = /[\\\n:]/;
const ESCAPE_12 = /[\\\r\n:]/g;
const ESCAPE_11 = /[\\\n:]/g;
const ESCAPED: Record<string, string> = { "\\": "\\\\", "\r": "\\r", "\n": "\\n", ":": "\\c" };
const UNSAFE_VALUE_RAW = /[\r\n]/;
const UNSAFE_NAME_RAW = /[\r\n:]/;
const toEscaped = (c: string): string => ESCAPED[c]!;

/**
 * Escapes a header name or value for the wire. In 1.1 a raw CR cannot be represented (it would be
 * taken for a line end), and in unescaped frames neither can CR or LF (nor a colon in a name): those
 * become spaces, as the alternative is a frame that parses differently from what was meant.
 */
export function escapeHeader(text: string, mode: EscapeMode, isName = false): string {
  if (mode === "1.2") return NEEDS_ESCAPE_12.test(text) ? text.replace(ESCAPE_12, toEscaped) : text;
  if (mode === "1.1") {
    const escaped = NEEDS_ESCAPE_11.test(text) ? text.replace(ESCAPE_11, toEscaped) : text;
    return escaped.includes("\r") ? escaped.replace(/\r/g, " ") : escaped;
  }
  const unsafe = isName ? UNSAFE_NAME_RAW : UNSAFE_VALUE_RAW;
  return unsafe.test(text) ? text.replace(new RegExp(unsafe.source, "g"), " ") : text;
}

/**
 * Decodes the escapes in a header name or value, left to right (so `\\n` is a backslash then `n`).
 * Returns undefined for an undefined escape, including a trailing lone backslash, which the spec
 * makes a fatal error. `mode` must not be "none".
 */
export function unescapeHeader(text: string, mode: EscapeMode): string | undefined {
  let at = text.indexOf("\\");
  if (at === -1) return text;
  let out = "";
  let from = 0;
  while (at !== -1) {
    out += text.slice(from, at);
    const next = text.charCodeAt(at + 1);
    if (next === 110 /* n */) out += "\n";
    else if (next === 99 /* c */) out += ":";
    else if (next === 92 /* \ */) out += "\\";
    else if (next === 114 /* r */ && mode === "1.2") out += "\r";
    else return undefined;
    from = at + 2;
    at = text.indexOf("\\", from);
  }
  return out + text.slice(from);
}
