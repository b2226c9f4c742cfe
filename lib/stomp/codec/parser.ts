import type { Frame, Headers, StompVersion } from "./frame.ts";
import { decodeHead } from "./head.ts";
import { StompParseError } from "./parse-error.ts";

export { type LimitName, type ParserLimits, StompParseError } from "./parse-error.ts";

import type { ParserLimits } from "./parse-error.ts";

const NUL = 0;
const LF = 10;
const CR = 13;

/** Between frames (skipping heart-beat EOLs), in the command and header lines, or in the body. */
const IDLE = 0;
const HEAD = 1;
const BODY = 2;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * A streaming STOMP frame parser over bytes. Feed it whatever the socket delivers; it returns each
 * frame once its terminating NUL has arrived. Any StompParseError is fatal: the parser stays failed
 * and the connection must end.
 *
 * Only the bytes of the frame in progress are kept (from its first byte while in the header lines,
 * from the first body byte once the headers are decoded), so memory is bounded by the limits.
 */
export class FrameParser {
  /** Governs header unescaping; the session sets it once CONNECT has been negotiated. */
  version: StompVersion;
  private buf: Uint8Array = EMPTY;
  private start = 0;
  private end = 0;
  private failure: StompParseError | undefined;

  private phase = IDLE;
  /** HEAD: bytes of the frame already split into lines. BODY without content-length: body bytes searched for NUL. */
  private scanned = 0;
  /** HEAD: bytes of the frame already known to hold no NUL. */
  private nulFree = 0;
  /** HEAD: complete lines seen so far, the command line included. */
  private lines = 0;
  private command = "";
  private headers: Headers = EMPTY_HEADERS;
  /** Declared content-length, or -1 for a body ending at the first NUL. */
  private bodyLength = -1;
  /** Bytes of the frame before its body (command, headers, blank line). */
  private headBytes = 0;

  constructor(
    private readonly limits: ParserLimits,
    version: StompVersion = "1.2",
  ) {
    this.version = version;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  /** Parses a chunk (strings are UTF-8 encoded first); returns the frames it completes, in order. */
  push(chunk: Uint8Array | string): Frame[] {
    if (this.failure) throw this.failure;
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    const frames: Frame[] = [];
    try {
      if (this.start === this.end) {
        // Nothing held: parse the chunk in place and copy only an incomplete tail.
        const keep = this.parse(bytes, 0, frames);
        if (keep < bytes.length) this.hold(bytes, keep);
      } else {
        this.append(bytes);
        this.start = this.parse(this.buf.subarray(0, this.end), this.start, frames);
        if (this.start === this.end) this.release();
      }
    } catch (err) {
      this.release();
      if (!(err instanceof StompParseError)) throw err;
      this.failure = err;
      throw err;
    }
    return frames;
  }

  /** Copies the incomplete tail of a chunk into a buffer of our own (the caller may reuse its memory). */
  private hold(bytes: Uint8Array, from: number): void {
    const tail = bytes.length - from;
    this.buf = new Uint8Array(Math.max(tail * 2, 1024));
    this.buf.set(bytes.subarray(from));
    this.start = 0;
    this.end = tail;
  }

  /** Appends after the held bytes, moving them to the front or growing the buffer only when needed. */
  private append(bytes: Uint8Array): void {
    if (this.buf.length - this.end < bytes.length) {
      const held = this.end - this.start;
      const needed = held + bytes.length;
      if (needed <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(Math.max(needed, this.buf.length * 2));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = held;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
  }

  /** Idle connections hold no buffer at all. */
  private release(): void {
    this.buf = EMPTY;
    this.start = 0;
    this.end = 0;
  }

  /**
   * Parses `data` from `pos`, pushing complete frames to `out`. Returns the offset of the first byte
   * that must be kept for later (data.length when nothing is pending).
   */
  private parse(data: Uint8Array, pos: number, out: Frame[]): number {
    const end = data.length;
    const limits = this.limits;
    for (;;) {
      if (this.phase === IDLE) {
        // Heart-beats: EOLs alone, before a command or after a NUL. Stray NULs between frames are
        // skipped too, as RabbitMQ does.
        while (pos < end) {
          const b = data[pos]!;
          if (b === LF || b === NUL) pos++;
          else if (b === CR) {
            if (pos + 1 === end) return pos;
            if (data[pos + 1] !== LF) throw new StompParseError("a CR must be followed by LF");
            pos += 2;
          } else break;
        }
        if (pos === end) return end;
        this.phase = HEAD;
        this.scanned = 0;
        this.nulFree = 0;
        this.lines = 0;
      }

      if (this.phase === HEAD) {
        const frameStart = pos;
        let lineStart = pos + this.scanned;
        let bodyStart = -1;
        while (bodyStart === -1) {
          const lf = data.indexOf(LF, lineStart);
          if (lf === -1) {
            this.checkPartialHead(data, frameStart, lineStart);
            this.scanned = lineStart - frameStart;
            return frameStart;
          }
          const lineBytes = lf > lineStart && data[lf - 1] === CR ? lf - lineStart - 1 : lf - lineStart;
          if (lineBytes === 0) bodyStart = lf + 1;
          else {
            if (lineBytes > limits.maxHeaderLineBytes) throw lineTooLong(limits);
            if (this.lines++ > limits.maxHeaders) throw tooManyHeaders(limits);
            lineStart = lf + 1;
          }
        }
        this.headBytes = bodyStart - frameStart;
        if (this.headBytes > limits.maxBufferedBytes) throw frameTooLarge(limits);
        const head = decodeHead(data.subarray(frameStart, lineStart), this.version);
        this.command = head.command;
        this.headers = head.headers;
        this.bodyLength = bodyLengthOf(head.headers, limits, this.headBytes);
        this.scanned = 0;
        this.phase = BODY;
        pos = bodyStart;
      }

      // BODY
      let bodyEnd: number;
      if (this.bodyLength >= 0) {
        bodyEnd = pos + this.bodyLength;
        if (bodyEnd >= end) return pos;
        if (data[bodyEnd] !== NUL)
          throw new StompParseError("the body is not followed by NUL at content-length");
      } else {
        bodyEnd = data.indexOf(NUL, pos + this.scanned);
        if (bodyEnd === -1) {
          const held = end - pos;
          if (held > limits.maxBodyBytes) throw bodyTooLarge(limits);
          if (this.headBytes + held > limits.maxBufferedBytes) throw frameTooLarge(limits);
          this.scanned = held;
          return pos;
        }
        const length = bodyEnd - pos;
        if (length > limits.maxBodyBytes) throw bodyTooLarge(limits);
        if (this.headBytes + length + 1 > limits.maxBufferedBytes) throw frameTooLarge(limits);
      }
      out.push({
        command: this.command,
        headers: this.headers,
        // A copy, never a view: Buffer#slice would alias the caller's memory or our reused buffer.
        body: new Uint8Array(data.subarray(pos, bodyEnd)),
      });
      this.headers = EMPTY_HEADERS;
      this.phase = IDLE;
      pos = bodyEnd + 1;
    }
  }

  /** Limits and early errors while the header lines are incomplete, so garbage cannot pile up. */
  private checkPartialHead(data: Uint8Array, frameStart: number, lineStart: number): void {
    const limits = this.limits;
    const partial = data.length - lineStart;
    // One byte of slack: the last byte may be the CR of a CRLF.
    if (partial > limits.maxHeaderLineBytes + 1) throw lineTooLong(limits);
    if (data.length - frameStart > limits.maxBufferedBytes) throw frameTooLarge(limits);
    if (data.indexOf(NUL, frameStart + this.nulFree) !== -1) {
      throw new StompParseError("NUL before the end of the headers");
    }
    this.nulFree = data.length - frameStart;
  }
}

const EMPTY_HEADERS: Headers = Object.freeze(Object.create(null));

function bodyLengthOf(headers: Headers, limits: ParserLimits, headBytes: number): number {
  const declared = headers["content-length"];
  if (declared === undefined) return -1;
  if (!/^[0-9]{1,15}$/.test(declared)) {
    if (/^[0-9]+$/.test(declared)) throw bodyTooLarge(limits);
    throw new StompParseError("content-length must be a non-negative decimal integer");
  }
  const length = Number(declared);
  if (length > limits.maxBodyBytes) throw bodyTooLarge(limits);
  if (headBytes + length + 1 > limits.maxBufferedBytes) throw frameTooLarge(limits);
  return length;
}

const lineTooLong = (l: ParserLimits) =>
  new StompParseError(
    `a header line is longer than maxHeaderLineBytes (${l.maxHeaderLineBytes})`,
    "maxHeaderLineBytes",
  );
const tooManyHeaders = (l: ParserLimits) =>
  new StompParseError(`a frame has more than maxHeaders (${l.maxHeaders}) headers`, "maxHeaders");
const bodyTooLarge = (l: ParserLimits) =>
  new StompParseError(`a body is larger than maxBodyBytes (${l.maxBodyBytes})`, "maxBodyBytes");
const frameTooLarge = (l: ParserLimits) =>
  new StompParseError(`a frame is larger than maxBufferedBytes (${l.maxBufferedBytes})`, "maxBufferedBytes");
