import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

let h: WsHarness;
let token: string;
beforeAll(async () => {
  h = await startWsHarness({ HEARTBEAT_MS: "200", HEARTBEAT_MIN_CLIENT_MS: "100" });
  token = (await h.user("hb")).token;
});
afterAll(() => h.stop());

async function connect(heartBeat: string): Promise<{ c: RawStomp; reply: string }> {
  const c = await RawStomp.open(h.url, ["v12.stomp"]);
  c.sendFrame("CONNECT", { "accept-version": "1.2", "heart-beat": heartBeat, passcode: token });
  const f = await c.next();
  return { c, reply: f.headers["heart-beat"]! };
}

describe("heart-beats", () => {
  test("negotiated per spec: max of the two sides, 0 disables a direction", async () => {
    expect((await connect("0,0")).reply).toBe("0,0");
    expect((await connect("300,150")).reply).toBe("200,300");
    expect((await connect("0,500")).reply).toBe("500,0");
    expect((await connect("100,0")).reply).toBe("0,200");
  });

  test("a malformed heart-beat header is refused", async () => {
    const c = await RawStomp.open(h.url);
    c.sendFrame("CONNECT", { "accept-version": "1.2", "heart-beat": "soon", passcode: token });
    expect((await c.next()).headers.message).toBe("malformed header: heart-beat");
  });

  test("the server sends each heart-beat as its own message of exactly a newline", async () => {
    const { c } = await connect("0,200");
    const before = c.messages.length;
    await Bun.sleep(700);
    const beats = c.messages.slice(before);
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats.every((m) => m === "\n")).toBe(true);
    c.close();
  });

  test("a client silent for more than twice the interval is closed", async () => {
    const { c } = await connect("200,0");
    const closed = await c.closed;
    expect(closed.code).toBe(4000);
    expect(c.frames.find((f) => f.command === "ERROR")?.headers.message).toBe("heart-beat timeout");
  });

  test("a client that keeps sending heart-beats stays connected", async () => {
    const { c } = await connect("200,0");
    const timer = setInterval(() => c.send("\n"), 150);
    await Bun.sleep(1000);
    clearInterval(timer);
    expect(c.isClosed).toBe(false);
    c.close();
  });
});
