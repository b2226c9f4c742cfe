import { describe, expect, test } from "bun:test";
import { escapeHeader, escapeModeFor, unescapeHeader } from "./escape.ts";

describe("escape rules", () => {
  test("mode by version and command", () => {
    expect(escapeModeFor("SEND", "1.2")).toBe("1.2");
    expect(escapeModeFor("MESSAGE", "1.1")).toBe("1.1");
    expect(escapeModeFor("MESSAGE", "1.0")).toBe("none");
    for (const c of ["CONNECT", "STOMP", "CONNECTED"]) expect(escapeModeFor(c, "1.2")).toBe("none");
  });

  test("unescape is left to right: \\\\n is a backslash then n", () => {
    expect(unescapeHeader("\\\\n", "1.2")).toBe("\\n");
    expect(unescapeHeader("\\\\\\n", "1.2")).toBe("\\\n");
  });

  test("unescape rejects undefined escapes and a trailing backslash", () => {
    expect(unescapeHeader("a\\tb", "1.2")).toBeUndefined();
    expect(unescapeHeader("a\\", "1.2")).toBeUndefined();
    expect(unescapeHeader("\\r", "1.1")).toBeUndefined();
    expect(unescapeHeader("\\r", "1.2")).toBe("\r");
  });

  test("escape then unescape is the identity in 1.2 and (without CR) in 1.1", () => {
    const samples = ["", "plain", "a:b", "\\", "\\\\n", "x\ny\rz", ":::\\c", "é🙂\\"];
    for (const s of samples) expect(unescapeHeader(escapeHeader(s, "1.2"), "1.2")).toBe(s);
    for (const s of samples.filter((x) => !x.includes("\r"))) {
      expect(unescapeHeader(escapeHeader(s, "1.1"), "1.1")).toBe(s);
    }
  });

  test("without escaping, names lose colons and everything loses CR/LF", () => {
    expect(escapeHeader("a:b\r\n", "none", true)).toBe("a b  ");
    expect(escapeHeader("a:b\r\n", "none")).toBe("a:b  ");
    expect(escapeHeader("a\\b", "none")).toBe("a\\b");
  });
});
