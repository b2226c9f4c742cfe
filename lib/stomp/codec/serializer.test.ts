import { describe, expect, test } from "bun:test";
import { FrameParser } from "./parser.ts";
import { encodeFrame, HEARTBEAT } from "./serializer.ts";

const roomy = { maxBufferedBytes: 1 << 20, maxHeaders: 100, maxHeaderLineBytes: 4096, maxBodyBytes: 1 << 19 };

describe("encodeFrame", () => {
  test("LF line ends, headers in order, content-length in bytes, NUL at the end", () => {
    const out = encodeFrame(
      "MESSAGE",
      [
        ["destination", "/t"],
        ["message-id", "1"],
      ],
      "héllo",
      "1.2",
    );
    expect(out).toBe("MESSAGE\ndestination:/t\nmessage-id:1\ncontent-length:6\n\nhéllo\0");
  });

  test("no content-length for an absent or empty body", () => {
    expect(encodeFrame("RECEIPT", { "receipt-id": "9" }, undefined, "1.2")).toBe(
      "RECEIPT\nreceipt-id:9\n\n\0",
    );
    expect(encodeFrame("RECEIPT", { "receipt-id": "9" }, "", "1.2")).toBe("RECEIPT\nreceipt-id:9\n\n\0");
  });

  test("a caller-provided content-length is replaced", () => {
    expect(encodeFrame("SEND", { "content-length": "99", a: "b" }, "xyz", "1.2")).toBe(
      "SEND\na:b\ncontent-length:3\n\nxyz\0",
    );
    expect(encodeFrame("SEND", [["content-length", "5"]], undefined, "1.2")).toBe("SEND\n\n\0");
  });

  test("repeated headers from a pair list are kept in order", () => {
    expect(
      encodeFrame(
        "SEND",
        [
          ["a", "1"],
          ["a", "2"],
        ],
        undefined,
        "1.2",
      ),
    ).toBe("SEND\na:1\na:2\n\n\0");
  });

  test("1.2 escapes \\ LF CR and colon in names and values", () => {
    expect(encodeFrame("MESSAGE", [["a:b", "c\\d\ne\rf:"]], undefined, "1.2")).toBe(
      "MESSAGE\na\\cb:c\\\\d\\ne\\rf\\c\n\n\0",
    );
  });

  test("1.1 escapes all but CR, which cannot be represented and becomes a space", () => {
    expect(encodeFrame("MESSAGE", [["k", "a\\b\nc:d\re"]], undefined, "1.1")).toBe(
      "MESSAGE\nk:a\\\\b\\nc\\cd e\n\n\0",
    );
  });

  test("1.0 escapes nothing; CR/LF (and colons in names) become spaces", () => {
    expect(encodeFrame("MESSAGE", [["k:x", "a\\b:c\nd"]], undefined, "1.0")).toBe(
      "MESSAGE\nk x:a\\b:c d\n\n\0",
    );
  });

  test("CONNECTED and CONNECT are never escaped", () => {
    expect(encodeFrame("CONNECTED", [["server", "chat\\talk:1"]], undefined, "1.2")).toBe(
      "CONNECTED\nserver:chat\\talk:1\n\n\0",
    );
    expect(encodeFrame("CONNECT", [["login", "a:b"]], undefined, "1.2")).toBe("CONNECT\nlogin:a:b\n\n\0");
  });

  test("a body with NULs gets a content-length that covers them", () => {
    const out = encodeFrame("MESSAGE", [], "a\0b", "1.2");
    expect(out).toBe("MESSAGE\ncontent-length:3\n\na\0b\0");
    const [f] = new FrameParser(roomy).push(out);
    expect([...f!.body]).toEqual([97, 0, 98]);
  });

  test("valid UTF-8 bytes give a string; invalid bytes give a binary frame", () => {
    expect(encodeFrame("MESSAGE", [], new TextEncoder().encode("ü"), "1.2")).toBe(
      "MESSAGE\ncontent-length:2\n\nü\0",
    );
    const out = encodeFrame("MESSAGE", [["k", "ü"]], Uint8Array.of(0xff, 0, 0xfe), "1.2");
    expect(out).toBeInstanceOf(Uint8Array);
    const [f] = new FrameParser(roomy).push(out);
    expect(f!.headers.k).toBe("ü");
    expect([...f!.body]).toEqual([0xff, 0, 0xfe]);
  });

  test("null-prototype header objects are accepted", () => {
    const headers = Object.assign(Object.create(null), { a: "1" });
    expect(encodeFrame("SEND", headers, undefined, "1.2")).toBe("SEND\na:1\n\n\0");
  });

  test("HEARTBEAT is a lone LF, which the parser skips", () => {
    expect(HEARTBEAT).toBe("\n");
    expect(new FrameParser(roomy).push(HEARTBEAT)).toEqual([]);
  });
});
