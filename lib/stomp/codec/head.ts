import { escapeModeFor, unescapeHeader } from "./escape.ts";
import { emptyHeaders, type Headers, type StompVersion } from "./frame.ts";
import { StompParseError } from "./parse-error.ts";

// One fatal decoder for the whole command-and-headers block: one native call per frame, and
// malformed UTF-8 is rejected rather than silently replaced.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * Decodes a frame's command line and header lines: `bytes` runs from the first byte of the command
 * to the end of the last header line's EOL (the blank line excluded). Lines end in LF or CRLF;
 * header lines split at their first colon; nothing is trimmed; the first of a repeated header wins.
 */
export function decodeHead(bytes: Uint8Array, version: StompVersion): { command: string; headers: Headers } {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new StompParseError("the command or a header is not valid UTF-8");
  }
  if (text.includes("\0")) throw new StompParseError("NUL before the end of the headers");
  const hasCR = text.includes("\r");

  let lineEnd = text.indexOf("\n");
  const command = lineAt(text, 0, lineEnd, hasCR);
  if (CONTROL.test(command)) throw new StompParseError("the command contains control characters");

  const mode = escapeModeFor(command, version);
  const escaped = mode !== "none" && text.includes("\\");
  const headers = emptyHeaders();
  let lineStart = lineEnd + 1;
  while (lineStart < text.length) {
    lineEnd = text.indexOf("\n", lineStart);
    const line = lineAt(text, lineStart, lineEnd, hasCR);
    lineStart = lineEnd + 1;
    const colon = line.indexOf(":");
    if (colon === -1) throw new StompParseError("a header line has no colon");
    let name = line.slice(0, colon);
    let value = line.slice(colon + 1);
    if (escaped && line.includes("\\")) {
      const n = unescapeHeader(name, mode);
      const v = unescapeHeader(value, mode);
      if (n === undefined || v === undefined) {
        throw new StompParseError(`undefined escape sequence in a header (STOMP ${version})`);
      }
      name = n;
      value = v;
    }
    if (headers[name] === undefined) headers[name] = value;
  }
  return { command, headers };
}

/** The line between `start` and the LF at `lf`, without its CR; a CR anywhere else is an error. */
function lineAt(text: string, start: number, lf: number, hasCR: boolean): string {
  if (!hasCR) return text.slice(start, lf);
  const end = text.charCodeAt(lf - 1) === 13 ? lf - 1 : lf;
  const line = text.slice(start, end);
  if (line.includes("\r")) throw new StompParseError("a CR must be followed by LF");
  return line;
}
