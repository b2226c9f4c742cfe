import { describe, expect, test } from "bun:test";
import type { Frame } from "./frame.ts";
import { FrameParser, type ParserLimits, StompParseError } from "./parser.ts";

const roomy: ParserLimits = {
  maxBufferedBytes: 1 << 20,
  maxHeaders: 100,
  maxHeaderLineBytes: 4096,
  maxBodyBytes: 1 << 19,
};
const utf8 = new TextEncoder();
const text = (f: Frame) => new TextDecoder().decode(f.body);
const parse = (input: string | Uint8Array, version?: "1.0" | "1.1" | "1.2") =>
  new FrameParser(roomy, version).push(input);
const one = (input: string | Uint8Array, version?: "1.0" | "1.1" | "1.2"): Frame => {
  const frames = parse(input, version);
  expect(frames).toHaveLength(1);
  return frames[0]!;
};
const parseError = (fn: () => unknown): StompParseError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StompParseError);
    return err as StompParseError;
  }
  throw new Error("expected a StompParseError");
};

describe("framing", () => {
  test("a frame with headers and a body", () => {
    const f = one("SEND\ndestination:/topic/a\nreceipt:7\n\nhello\0");
    expect(f.command).toBe("SEND");
    expect({ ...f.headers }).toEqual({ destination: "/topic/a", receipt: "7" });
    expect(text(f)).toBe("hello");
    expect(Object.getPrototypeOf(f.headers)).toBeNull();
  });

  test("one frame split at every byte position, and byte by byte", () => {
    const raw = utf8.encode("SEND\r\ndestination:/q/é\r\ncontent-length:5\r\n\r\na\0b\0c\0\n");
    for (let cut = 1; cut < raw.length; cut++) {
      const p = new FrameParser(roomy);
      const frames = [...p.push(raw.subarray(0, cut)), ...p.push(raw.subarray(cut))];
      expect(frames).toHaveLength(1);
      expect(frames[0]!.headers.destination).toBe("/q/é");
      expect([...frames[0]!.body]).toEqual([97, 0, 98, 0, 99]);
      expect(p.bufferedBytes).toBe(0);
    }
    const p = new FrameParser(roomy);
    const frames = [...raw].flatMap((b) => p.push(Uint8Array.of(b)));
    expect(frames.map((f) => f.command)).toEqual(["SEND"]);
  });

  test("many frames in one chunk", () => {
    const frames = parse("SEND\na:1\n\nx\0MESSAGE\nb:2\n\n\0\nACK\nid:3\n\n\0");
    expect(frames.map((f) => f.command)).toEqual(["SEND", "MESSAGE", "ACK"]);
    expect(frames.map((f) => f.body.length)).toEqual([1, 0, 0]);
  });

  test("heart-beat EOLs alone, before a command and after a NUL", () => {
    const p = new FrameParser(roomy);
    expect(p.push("\n")).toEqual([]);
    expect(p.push("\r\n\n")).toEqual([]);
    expect(p.bufferedBytes).toBe(0);
    expect(p.push("\n\r\nSEND\n\n\0\r\n\n\n").map((f) => f.command)).toEqual(["SEND"]);
    expect(p.bufferedBytes).toBe(0);
  });

  test("a CRLF split between chunks while idle", () => {
    const p = new FrameParser(roomy);
    expect(p.push("\r")).toEqual([]);
    expect(p.bufferedBytes).toBe(1);
    expect(p.push("\nSEND\n\n\0")).toHaveLength(1);
  });

  test("stray NULs between frames are skipped", () => {
    expect(parse("\0\0SEND\n\n\0\0").map((f) => f.command)).toEqual(["SEND"]);
  });

  test("LF and CRLF line ends, mixed", () => {
    const f = one("MESSAGE\r\na:1\nb:2\r\n\nbody\0");
    expect({ ...f.headers }).toEqual({ a: "1", b: "2" });
    expect(text(f)).toBe("body");
  });

  test("a bare CR is an error: between frames, in a command, in a header", () => {
    for (const bad of [
      "\rSEND\n\n\0",
      "SE\rND\n\n\0",
      "SEND\r\r\n\n\0",
      "SEND\na:b\rc\n\n\0",
      "SEND\na:b\r\r\n\n\0",
    ]) {
      expect(parseError(() => parse(bad)).message).toContain("CR");
    }
  });

  test("a CR in the body is just a byte", () => {
    expect(text(one("SEND\n\na\rb\r\n\0"))).toBe("a\rb\r\n");
  });

  test("content-length bodies may hold NULs; a NUL must still follow", () => {
    const f = one("SEND\ncontent-length:3\n\na\0a\0");
    expect([...f.body]).toEqual([97, 0, 97]);
    expect(parseError(() => parse("SEND\ncontent-length:2\n\nabc\0")).message).toContain("NUL");
  });

  test("content-length:0 and an immediate NUL", () => {
    expect(one("SEND\ncontent-length:0\n\n\0").body.length).toBe(0);
  });

  test("a body without content-length ends at the first NUL", () => {
    const frames = parse("SEND\n\nab\0cd\n\n\0");
    expect(text(frames[0]!)).toBe("ab");
    expect(frames[1]!.command).toBe("cd");
  });

  test("malformed content-length is an error", () => {
    for (const bad of ["abc", "-1", "1.5", " 3", "3 ", "", "0x10"]) {
      const err = parseError(() => parse(`SEND\ncontent-length:${bad}\n\nabc\0`));
      expect(err.message).toContain("content-length");
      expect(err.limit).toBeUndefined();
    }
  });

  test("bodies are copies, not views of the caller's chunk", () => {
    const chunk = utf8.encode("SEND\n\nabc\0");
    const f = one(chunk);
    chunk.fill(0);
    expect(text(f)).toBe("abc");
  });

  test("a Buffer chunk (as Bun delivers binary messages) gives plain, copied bodies", () => {
    const chunk = Buffer.from("SEND\n\nabc\0");
    const f = one(chunk);
    chunk.fill(0);
    expect(text(f)).toBe("abc");
    expect(Buffer.isBuffer(f.body)).toBe(false);
  });

  test("an incomplete tail is copied, so the caller may reuse its chunk", () => {
    const p = new FrameParser(roomy);
    const chunk = utf8.encode("SEND\na:1\n\nab");
    p.push(chunk);
    chunk.fill(120);
    const [f] = p.push("c\0");
    expect(f!.headers.a).toBe("1");
    expect(text(f!)).toBe("abc");
  });
});

describe("headers", () => {
  test("a repeated header: the first wins", () => {
    expect(one("MESSAGE\nfoo:1\nfoo:2\nfoo:3\n\n\0").headers.foo).toBe("1");
  });

  test("a value with raw colons splits at the first colon", () => {
    expect(one("SEND\nh:val:ue\n::\n\n\0").headers).toEqual(
      Object.assign(Object.create(null), { h: "val:ue", "": ":" }),
    );
  });

  test("names and values are not trimmed", () => {
    const f = one("SEND\n foo : bar \n\n\0");
    expect(f.headers[" foo "]).toBe(" bar ");
    expect(f.headers.foo).toBeUndefined();
  });

  test("empty name and empty value", () => {
    expect({ ...one("SEND\n:\nk:\n\n\0").headers }).toEqual({ "": "", k: "" });
  });

  test("a header named __proto__ is an ordinary key", () => {
    const f = one("SEND\n__proto__:x\nconstructor:y\n\n\0");
    // Entries, not property access: the point is that these are own data keys.
    expect(Object.entries(f.headers)).toEqual([
      ["__proto__", "x"],
      ["constructor", "y"],
    ]);
  });

  test("a header line without a colon is an error", () => {
    expect(parseError(() => parse("SEND\nnocolon\n\n\0")).message).toContain("colon");
  });

  test("unicode names and values, even split inside a multi-byte character", () => {
    const raw = utf8.encode("SEND\nnöm:🙂 ü\n\nΩ\0");
    for (let cut = 1; cut < raw.length; cut++) {
      const p = new FrameParser(roomy);
      const frames = [...p.push(raw.subarray(0, cut)), ...p.push(raw.subarray(cut))];
      expect(frames[0]!.headers.nöm).toBe("🙂 ü");
      expect(text(frames[0]!)).toBe("Ω");
    }
  });

  test("invalid UTF-8 in a header is an error", () => {
    expect(parseError(() => parse(Uint8Array.of(83, 10, 97, 58, 0xff, 10, 10, 0))).message).toContain(
      "UTF-8",
    );
  });
});

describe("escapes", () => {
  const raw = "SEND\nk\\c1:a\\nb\\rc\\cd\\\\e\\\\n\n\n\0";

  test("1.2 decodes \\r \\n \\c \\\\ in names and values, left to right", () => {
    expect({ ...one(raw, "1.2").headers }).toEqual({ "k:1": "a\nb\rc:d\\e\\n" });
  });

  test("CONNECT, STOMP and CONNECTED are never unescaped", () => {
    for (const command of ["CONNECT", "STOMP", "CONNECTED"]) {
      expect(one(`${command}\nlogin:a\\cb\\t\n\n\0`).headers.login).toBe("a\\cb\\t");
    }
  });

  test("an undefined escape is fatal", () => {
    for (const value of ["a\\tb", "trailing\\", "\\x", "\\C"]) {
      expect(parseError(() => parse(`SEND\nk:${value}\n\n\0`)).message).toContain("escape");
    }
    expect(parseError(() => parse("SEND\nk\\t:v\n\n\0")).message).toContain("escape");
  });

  test("1.1 has no \\r escape", () => {
    expect(one("SEND\nk:a\\nb\\c\\\\\n\n\0", "1.1").headers.k).toBe("a\nb:\\");
    expect(parseError(() => parse("SEND\nk:a\\rb\n\n\0", "1.1")).message).toContain("1.1");
  });

  test("1.0 has no escaping: backslashes are literal", () => {
    expect(one("SEND\nk:a\\tb\\\n\n\0", "1.0").headers.k).toBe("a\\tb\\");
  });

  test("the version can change between frames", () => {
    const p = new FrameParser(roomy, "1.0");
    expect(p.push("SEND\nk:\\c\n\n\0")[0]!.headers.k).toBe("\\c");
    p.version = "1.2";
    expect(p.push("SEND\nk:\\c\n\n\0")[0]!.headers.k).toBe(":");
  });
});

describe("commands", () => {
  test("any non-empty line is returned as the command", () => {
    expect(one("FROBNICATE\n\n\0").command).toBe("FROBNICATE");
    expect(one("send it:now\n\n\0").command).toBe("send it:now");
  });

  test("a command with control characters is an error", () => {
    expect(parseError(() => parse("SE\tND\n\n\0")).message).toContain("control");
    expect(parseError(() => parse("SEND\x7f\n\n\0")).message).toContain("control");
  });

  test("a NUL before the blank line is an error, even before the headers end", () => {
    expect(parseError(() => parse("SEND\0\n\n\0")).message).toContain("NUL");
    expect(parseError(() => parse("SEND\na:1\n\0")).message).toContain("NUL");
    const p = new FrameParser(roomy);
    expect(p.push("SEND\nab")).toEqual([]);
    expect(parseError(() => p.push("c\0")).message).toContain("NUL");
  });
});

describe("failure is final", () => {
  test("after an error every push throws the same error", () => {
    const p = new FrameParser(roomy);
    const first = parseError(() => p.push("SEND\nbad\n\n\0"));
    expect(p.bufferedBytes).toBe(0);
    expect(parseError(() => p.push("SEND\n\n\0"))).toBe(first);
  });
});
