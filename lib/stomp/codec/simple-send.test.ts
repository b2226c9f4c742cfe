import { expect, test } from "bun:test";
import { FrameParser, type ParserLimits } from "./parser.ts";
import { matchSimpleSend } from "./simple-send.ts";

const limits: ParserLimits = {
  maxBufferedBytes: 64 * 1024,
  maxHeaders: 32,
  maxHeaderLineBytes: 4096,
  maxBodyBytes: 32 * 1024,
};

const parsed = (chunk: string, l = limits) => {
  try {
    return new FrameParser(l, "1.2").push(chunk);
  } catch {
    return "parse error";
  }
};

const dest = "/topic/rooms/r1/typing";
const matching = [
  `SEND\ndestination:${dest}\n\n{"typing":true}\0`,
  `SEND\ndestination:${dest}\ncontent-type:application/json\n\n{"typing":false}\0`,
  `SEND\ncontent-length:15\ndestination:${dest}\ncontent-type:application/json\n\n{"typing":true}\0`,
  `SEND\ndestination:${dest}\ncontent-type:text/plain\n\n{"typing": true}\0`,
  `SEND\ndestination:a:b\n\n\0`,
  `SEND\ndestination:${dest}\n\nnot json at all\0`,
];

const notMatching = [
  `SEND\ndestination:${dest}\nreceipt:r1\n\n{"typing":true}\0`, // wants an answer
  `SEND\ndestination:${dest}\ntransaction:t\n\n{"typing":true}\0`,
  `SEND\ndestination:${dest}\ndestination:/topic/rooms/r2/typing\n\n{}\0`, // repeated: first wins in the parser
  `SEND\r\ndestination:${dest}\r\n\r\n{"typing":true}\0`, // CRLF
  `SEND\ndestination:/topic/rooms/r\\c1/typing\n\n{}\0`, // an escape
  `SEND\ndestination:/topic/rooms/rü/typing\n\n{}\0`, // not ASCII
  `SEND\ndestination:${dest}\n\n{"typing":"é"}\0`,
  `SEND\ndestination:${dest}\n\n{"typing":\ntrue}\0`, // LF in the body
  `SEND\ndestination:${dest}\n\n{"typing":true}\0\n`, // a heart-beat after it
  `SEND\ndestination:${dest}\n\n{"typing":true}\0SEND\ndestination:${dest}\n\n{}\0`, // two frames
  `SEND\ndestination:${dest}\n\n{"typing":true}`, // incomplete
  `SEND\ndestination:${dest}\ncontent-length:14\n\n{"typing":true}\0`, // wrong length
  `SEND\ndestination:${dest}\ncontent-length:015\n\n{"typing":true}\0`,
  `SEND\ncontent-type:application/json\n\n{}\0`, // no destination
  `\nSEND\ndestination:${dest}\n\n{}\0`, // heart-beat first
  `SUBSCRIBE\ndestination:${dest}\nid:1\n\n\0`,
  `SEND\ndestination${dest}\n\n{}\0`, // no colon
  `SEND\n:x\ndestination:${dest}\n\n{}\0`,
  `SEND\ndestination:${dest}\n\n${"x".repeat(2000)}\0`, // longer than a signal
];

test("a simple SEND is read exactly as the parser reads it", () => {
  for (const chunk of matching) {
    const m = matchSimpleSend(chunk, limits);
    const frames = parsed(chunk);
    expect(m).toBeDefined();
    expect(frames).not.toBe("parse error");
    const [f] = frames as Exclude<typeof frames, string>;
    expect(frames).toHaveLength(1);
    expect(f!.command).toBe("SEND");
    expect(m!.destination).toBe(f!.headers.destination!);
    expect(m!.contentType).toBe(f!.headers["content-type"]);
    expect(m!.body).toBe(new TextDecoder().decode(f!.body));
    const names = Object.keys(f!.headers).filter((k) => k !== "content-length");
    expect(names.every((k) => k === "destination" || k === "content-type")).toBe(true);
  }
});

test("anything else is left to the parser", () => {
  for (const chunk of notMatching) expect(matchSimpleSend(chunk, limits)).toBeUndefined();
});

test("never past a parser limit: what the parser would refuse is left to it", () => {
  const chunk = `SEND\ndestination:${dest}\ncontent-type:application/json\n\n{"typing":false}\0`;
  expect(matchSimpleSend(chunk, limits)).toBeDefined();
  const tight: ParserLimits[] = [
    { ...limits, maxBodyBytes: 15 },
    { ...limits, maxHeaderLineBytes: 30 },
    { ...limits, maxBufferedBytes: chunk.length - 1 },
    { ...limits, maxHeaders: 1 },
  ];
  for (const l of tight) {
    expect(parsed(chunk, l)).toBe("parse error");
    expect(matchSimpleSend(chunk, l)).toBeUndefined();
  }
  for (const l of [
    { ...limits, maxBodyBytes: 16 },
    { ...limits, maxBufferedBytes: chunk.length },
  ]) {
    expect(parsed(chunk, l)).not.toBe("parse error");
    expect(matchSimpleSend(chunk, l)).toBeDefined();
  }
});
