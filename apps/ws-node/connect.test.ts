import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, TEST_JWT_SECRET, type WsHarness } from "../../testkit/ws-harness.ts";

let h: WsHarness;
let token: string;
beforeAll(async () => {
  h = await startWsHarness({ MAX_CONNECTIONS_PER_USER: "2", CONNECT_TIMEOUT_MS: "300" });
  token = (await h.user("alice")).token;
});
afterAll(() => h.stop());

function offered(protocols: string[] | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(h.url, protocols);
    ws.onopen = () => {
      resolve(ws.protocol);
      ws.close();
    };
    ws.onerror = () => reject(new Error("refused"));
  });
}

describe("WebSocket handshake", () => {
  test("answers with the highest vNN.stomp offered, whatever the order", async () => {
    expect(await offered(["v10.stomp", "v11.stomp", "v12.stomp"])).toBe("v12.stomp");
    expect(await offered(["v11.stomp", "v10.stomp"])).toBe("v11.stomp");
  });

  test("accepts a client that offers no subprotocol (stomp.py)", async () => {
    expect(await offered(undefined)).toBe("");
  });

  test("refuses unknown subprotocols with a JSON 400", async () => {
    const res = await fetch(h.url.replace("ws:", "http:"), {
      headers: { upgrade: "websocket", connection: "upgrade", "sec-websocket-protocol": "mqtt" },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("unsupported_subprotocol");
  });
});

describe("CONNECT", () => {
  test("CONNECTED carries version, heart-beat, session and server", async () => {
    const c = await RawStomp.open(h.url, ["v12.stomp"]);
    c.sendFrame("CONNECT", { "accept-version": "1.0,1.1,1.2", "heart-beat": "0,0", passcode: token });
    const f = await c.next();
    expect(f.command).toBe("CONNECTED");
    expect(f.headers.version).toBe("1.2");
    expect(f.headers["heart-beat"]).toBe("0,0");
    expect(f.headers.session).toBeTruthy();
    expect(f.headers.server).toStartWith("ChatTalk");
    c.close();
  });

  test("STOMP works like CONNECT, host not required", async () => {
    const c = await RawStomp.open(h.url);
    c.sendFrame("STOMP", { "accept-version": "1.2", Authorization: `Bearer ${token}` });
    expect((await c.next()).command).toBe("CONNECTED");
    c.close();
  });

  test.each([
    [undefined, "1.0"],
    ["1.0,1.1,1.3", "1.1"],
    ["1.1", "1.1"],
  ])("accept-version %p negotiates %s", async (accept, version) => {
    const c = await RawStomp.open(h.url);
    const headers: Record<string, string> = { passcode: token };
    if (accept) headers["accept-version"] = accept;
    c.sendFrame("CONNECT", headers);
    const f = await c.next();
    expect(f.command).toBe("CONNECTED");
    expect(f.headers.version).toBe(version);
    c.close();
  });

  test("no common version: ERROR with a version header, then close", async () => {
    const c = await RawStomp.open(h.url);
    c.sendFrame("CONNECT", { "accept-version": "1.3,2.0", passcode: token });
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.version).toBe("1.0,1.1,1.2");
    await c.closed;
  });

  const sign = (claims: Record<string, unknown>, secret = TEST_JWT_SECRET, exp = "10m") =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("chattalk")
      .setAudience("chattalk")
      .setSubject("u1")
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));

  test.each([
    ["missing", async () => undefined],
    ["expired", async () => sign({ username: "x" }, TEST_JWT_SECRET, "-1m")],
    ["tampered", async () => `${(await sign({ username: "x" })).slice(0, -2)}xx`],
    [
      "signed with another key",
      async () => sign({ username: "x" }, "another-secret-that-is-long-enough-too!!"),
    ],
    [
      "alg none",
      async () => {
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
        const now = Math.floor(Date.now() / 1000);
        return `${b64({ alg: "none" })}.${b64({ sub: "u1", username: "x", iss: "chattalk", aud: "chattalk", iat: now, exp: now + 600 })}.`;
      },
    ],
  ])("%s token: ERROR then close", async (_name, make) => {
    const t = await make();
    const c = await RawStomp.open(h.url);
    c.sendFrame(
      "CONNECT",
      t ? { "accept-version": "1.2", Authorization: `Bearer ${t}` } : { "accept-version": "1.2" },
    );
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toStartWith("authentication");
    expect((await c.closed).code).toBe(1008);
  });

  test("a first frame other than CONNECT is refused", async () => {
    const c = await RawStomp.open(h.url);
    c.sendFrame("SEND", { destination: "/topic/rooms/x" }, "{}");
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toBe("expected CONNECT");
    await c.closed;
  });

  test("a client that never sends CONNECT is closed after the timeout", async () => {
    const c = await RawStomp.open(h.url);
    const f = await c.next(undefined, 3000);
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toBe("CONNECT timeout");
    expect((await c.closed).code).toBe(4000);
  });

  test("connections per user are capped", async () => {
    const { token: t } = await h.user("many");
    const a = await RawStomp.connect(h.url, t);
    const b = await RawStomp.connect(h.url, t);
    const c = await RawStomp.open(h.url);
    c.sendFrame("CONNECT", { "accept-version": "1.2", passcode: t });
    const f = await c.next();
    expect(f.command).toBe("ERROR");
    expect(f.headers.message).toBe("limit exceeded: connections per user");
    a.close();
    await a.closed;
    // A slot is free again once one closes.
    const d = await RawStomp.connect(h.url, t);
    b.close();
    d.close();
  });
});
