import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { escapeModeFor } from "./escape.ts";
import type { Frame, StompVersion } from "./frame.ts";
import { FrameParser, type ParserLimits } from "./parser.ts";
import { encodeFrame } from "./serializer.ts";

const limits: ParserLimits = {
  maxBufferedBytes: 1 << 20,
  maxHeaders: 1000,
  maxHeaderLineBytes: 1 << 16,
  maxBodyBytes: 1 << 19,
};
const COMMANDS = [
  "CONNECT",
  "STOMP",
  "CONNECTED",
  "SEND",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "ACK",
  "NACK",
  "BEGIN",
  "COMMIT",
  "ABORT",
  "DISCONNECT",
  "MESSAGE",
  "RECEIPT",
  "ERROR",
];
const VERSIONS: StompVersion[] = ["1.0", "1.1", "1.2"];
const utf8 = new TextEncoder();

/** Characters that stress the codec: escapes, line ends, NUL, and multi-byte UTF-8. */
const tricky = fc.constantFrom(":", "\\", "\r", "\n", "\0", "c", "n", " ", "é", "🙂", "\u2028");
const headerText = fc.string({
  unit: fc.oneof(tricky, fc.string({ unit: "binary", maxLength: 1 })),
  maxLength: 12,
});
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ unit: fc.oneof(tricky, fc.string({ unit: "binary", maxLength: 1 })), maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }),
);

/** Header text the rules can carry: no NUL; no CR/LF (nor colons in names) where nothing is escaped; no CR in 1.1. */
function representable(text: string, command: string, version: StompVersion, isName: boolean): boolean {
  if (text.includes("\0")) return false;
  const mode = escapeModeFor(command, version);
  if (mode === "none") return !/[\r\n]/.test(text) && !(isName && text.includes(":"));
  return mode === "1.2" || !text.includes("\r");
}

const frameArb = fc
  .record({
    command: fc.constantFrom(...COMMANDS),
    version: fc.constantFrom(...VERSIONS),
    headers: fc.array(fc.tuple(headerText, headerText), { maxLength: 8 }),
    body,
  })
  .map(({ command, version, headers, body }) => ({
    command,
    version,
    body,
    headers: headers.filter(
      ([n, v]) => representable(n, command, version, true) && representable(v, command, version, false),
    ),
  }));

/** What the parser must return for what the serializer was given. */
function expected(input: {
  command: string;
  headers: [string, string][];
  body: string | Uint8Array | undefined;
}) {
  const bytes =
    input.body === undefined
      ? new Uint8Array(0)
      : typeof input.body === "string"
        ? utf8.encode(input.body)
        : input.body;
  const headers: Record<string, string> = Object.create(null);
  for (const [n, v] of input.headers) if (n !== "content-length" && headers[n] === undefined) headers[n] = v;
  if (bytes.length > 0) headers["content-length"] = String(bytes.length);
  return { command: input.command, headers, body: bytes };
}

const plain = (f: Frame) => ({ command: f.command, headers: { ...f.headers }, body: [...f.body] });

describe("codec properties", () => {
  test("encodeFrame then FrameParser gives the same frame, in every version", () => {
    fc.assert(
      fc.property(frameArb, (input) => {
        const wire = encodeFrame(input.command, input.headers, input.body, input.version);
        const frames = new FrameParser(limits, input.version).push(wire);
        expect(frames.map(plain)).toEqual([plain(expected(input))]);
      }),
      { numRuns: 2000 },
    );
  });

  test("a stream of frames and heart-beats parses the same however it is chunked", () => {
    const piece = fc.oneof(
      frameArb.map((f) => encodeFrame(f.command, f.headers, f.body, "1.2")),
      fc.constantFrom("\n", "\r\n"),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (pieces, cuts) => {
          const parts = pieces.map((p) => (typeof p === "string" ? utf8.encode(p) : p));
          const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let at = 0;
          for (const p of parts) {
            stream.set(p, at);
            at += p.length;
          }
          const whole = new FrameParser(limits).push(stream).map(plain);
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const chunked = new FrameParser(limits);
          const frames: Frame[] = [];
          let from = 0;
          for (const to of [...points, stream.length]) {
            frames.push(...chunked.push(stream.subarray(from, to)));
            from = to;
          }
          expect(frames.map(plain)).toEqual(whole);
          expect(whole).toHaveLength(pieces.filter((p) => p !== "\n" && p !== "\r\n").length);
          expect(chunked.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
