import { describe, expect, test } from "bun:test";
import { FrameParser, type LimitName, type ParserLimits, StompParseError } from "./parser.ts";

const limits: ParserLimits = {
  maxBufferedBytes: 256,
  maxHeaders: 3,
  maxHeaderLineBytes: 32,
  maxBodyBytes: 100,
};

function limitHit(fn: () => unknown): LimitName {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StompParseError);
    const e = err as StompParseError;
    expect(e.limit).toBeDefined();
    expect(e.message).toContain(e.limit!);
    return e.limit!;
  }
  throw new Error("expected a limit to be hit");
}

const push = (input: string) => new FrameParser(limits).push(input);

describe("limits", () => {
  test("header count: at the limit is fine, one more fails", () => {
    expect(push("SEND\na:1\nb:2\nc:3\n\n\0")).toHaveLength(1);
    expect(limitHit(() => push("SEND\na:1\nb:2\nc:3\nd:4\n\n\0"))).toBe("maxHeaders");
  });

  test("repeated headers count towards the limit", () => {
    expect(limitHit(() => push("SEND\na:1\na:1\na:1\na:1\n\n\0"))).toBe("maxHeaders");
  });

  test("header line length, exact at the limit with LF and CRLF", () => {
    const line = `k:${"v".repeat(30)}`; // 32 bytes
    expect(push(`SEND\n${line}\n\n\0`)).toHaveLength(1);
    expect(push(`SEND\r\n${line}\r\n\r\n\0`)).toHaveLength(1);
    expect(limitHit(() => push(`SEND\n${line}v\n\n\0`))).toBe("maxHeaderLineBytes");
  });

  test("an overlong command line counts too", () => {
    expect(limitHit(() => push(`${"X".repeat(33)}\n\n\0`))).toBe("maxHeaderLineBytes");
  });

  test("a long line without LF fails once past the limit, not when it ends", () => {
    const p = new FrameParser(limits);
    expect(p.push("SEND\nk:")).toEqual([]);
    expect(limitHit(() => p.push("v".repeat(40)))).toBe("maxHeaderLineBytes");
  });

  test("body size with a NUL terminator", () => {
    expect(push(`SEND\n\n${"b".repeat(100)}\0`)).toHaveLength(1);
    expect(limitHit(() => push(`SEND\n\n${"b".repeat(101)}\0`))).toBe("maxBodyBytes");
  });

  test("a body without NUL fails once past the limit", () => {
    const p = new FrameParser(limits);
    p.push("SEND\n\n");
    p.push("b".repeat(60));
    expect(p.bufferedBytes).toBe(60);
    expect(limitHit(() => p.push("b".repeat(60)))).toBe("maxBodyBytes");
  });

  test("a declared content-length over maxBodyBytes fails at once", () => {
    const p = new FrameParser(limits);
    expect(limitHit(() => p.push("SEND\ncontent-length:101\n\n"))).toBe("maxBodyBytes");
    expect(limitHit(() => push(`SEND\ncontent-length:${"9".repeat(17)}\n\n`))).toBe("maxBodyBytes");
  });

  test("a declared frame over maxBufferedBytes fails at once", () => {
    const roomyBody = { ...limits, maxBodyBytes: 1000, maxHeaderLineBytes: 1000 };
    const p = new FrameParser(roomyBody);
    expect(p.push("SEND\ncontent-length:200\n\n")).toEqual([]);
    expect(limitHit(() => new FrameParser(roomyBody).push("SEND\ncontent-length:250\n\n"))).toBe(
      "maxBufferedBytes",
    );
  });

  test("the whole frame must fit in maxBufferedBytes, however it is chunked", () => {
    const wide = { ...limits, maxBodyBytes: 1000, maxHeaderLineBytes: 1000, maxHeaders: 100 };
    const frame = `SEND\nh:${"x".repeat(150)}\n\n${"b".repeat(100)}\0`; // 264 bytes
    expect(limitHit(() => new FrameParser(wide).push(frame))).toBe("maxBufferedBytes");
    const p = new FrameParser(wide);
    expect(
      limitHit(() => {
        for (let i = 0; i < frame.length; i += 10) p.push(frame.slice(i, i + 10));
      }),
    ).toBe("maxBufferedBytes");
  });

  test("garbage without NUL or LF never buffers past the limits", () => {
    const p = new FrameParser(limits);
    expect(
      limitHit(() => {
        for (let i = 0; i < 1000; i++) p.push("garbage ");
      }),
    ).toBe("maxHeaderLineBytes");
    expect(p.bufferedBytes).toBe(0);
  });

  test("garbage lines without a blank line never buffer past the limits", () => {
    const wide = { ...limits, maxHeaders: 1000 };
    const p = new FrameParser(wide);
    let most = 0;
    expect(
      limitHit(() => {
        for (let i = 0; i < 1000; i++) {
          p.push("junk:line\n");
          most = Math.max(most, p.bufferedBytes);
        }
      }),
    ).toBe("maxBufferedBytes");
    expect(most).toBeLessThanOrEqual(wide.maxBufferedBytes);
  });

  test("many small frames in one chunk larger than maxBufferedBytes are fine", () => {
    const chunk = "SEND\ndestination:/q\n\nhello\0".repeat(50);
    expect(push(chunk)).toHaveLength(50);
  });
});
