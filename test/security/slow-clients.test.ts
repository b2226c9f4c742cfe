import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { type EmbeddedApp, startEmbeddedApp } from "../../testkit/embedded-app.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

/**
 * Issue 13, row 4, against the one-process app with nothing in front of it: hundreds of slow request
 * bodies (a byte a second) are refused past the per-address cap and cut off at the body timeout,
 * while /healthz and a new WebSocket keep answering; WebSockets are capped per address, the address
 * being the X-Forwarded-For hop under TRUST_PROXY.
 */
const SLOW = 300;
let app: EmbeddedApp;
beforeAll(async () => {
  app = await startEmbeddedApp({
    TRUST_PROXY: "true",
    HTTP_BODY_TIMEOUT_SEC: "3",
    HTTP_MAX_REQUESTS_IN_FLIGHT_PER_IP: "64",
    WS_MAX_CONNECTIONS_PER_IP: "5",
  });
}, 60_000);
afterAll(() => app?.stop());

interface Slow {
  closedAt: number | undefined;
  answer: string;
  socket: net.Socket;
}

/** A POST whose body trickles in a byte a second, from its own loopback address. */
function slowPost(port: number, localAddress: string): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    const s: Slow = { closedAt: undefined, answer: "", socket };
    socket.on("connect", () => {
      socket.write(
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{",
      );
      const drip = setInterval(
        () => (s.closedAt === undefined ? socket.write(" ") : clearInterval(drip)),
        1000,
      );
      resolve(s);
    });
    socket.on("data", (d) => (s.answer += d.toString()));
    socket.on("close", () => (s.closedAt = performance.now()));
    socket.on("error", (err) => (s.closedAt === undefined && !s.answer ? reject(err) : undefined));
  });
}

test("hundreds of slow bodies are refused or cut off; /healthz and a new WebSocket still answer", async () => {
  const { token } = await app.signup("steady");
  const port = Number(new URL(app.url).port);
  const started = performance.now();
  const slow = await Promise.all(
    Array.from({ length: SLOW }, (_, i) => slowPost(port, i % 2 ? "127.0.0.2" : "127.0.0.3")),
  );
  await Bun.sleep(500);
  // Past 64 per address, refused at once: 429, and the connection closed.
  const refused = slow.filter((s) => s.answer.startsWith("HTTP/1.1 429"));
  expect(refused.length).toBe(SLOW - 2 * 64);
  expect(refused.every((s) => s.closedAt !== undefined)).toBe(true);

  // Meanwhile the app serves everyone else.
  const health = await fetch(`${app.url}/healthz`);
  expect(health.status).toBe(200);
  const c = await RawStomp.connect(app.wsUrl, token);
  c.close();

  // The admitted ones are cut off once their body has taken longer than the timeout.
  const deadline = performance.now() + 10_000;
  while (slow.some((s) => s.closedAt === undefined) && performance.now() < deadline) await Bun.sleep(100);
  expect(slow.filter((s) => s.closedAt === undefined)).toHaveLength(0);
  const lastClose = Math.max(...slow.map((s) => s.closedAt!)) - started;
  expect(lastClose).toBeGreaterThan(2_500); // not before the body timeout
  for (const s of slow) s.socket.destroy();
}, 60_000);

test("WebSockets are capped per address (X-Forwarded-For with TRUST_PROXY); other addresses connect", async () => {
  const open = (xff: string) =>
    new Promise<WebSocket | number>((resolve) => {
      // Bun's WebSocket takes headers: here they stand in for nginx's.
      const ws = new WebSocket(app.wsUrl, { headers: { "X-Forwarded-For": xff } } as unknown as string[]);
      ws.onopen = () => resolve(ws);
      ws.onerror = () => resolve(0);
    });
  const first = await Promise.all(Array.from({ length: 5 }, () => open("198.51.100.1")));
  expect(first.every((w) => w instanceof WebSocket)).toBe(true);
  expect(await open("198.51.100.1")).toBe(0);
  const other = await open("198.51.100.2");
  expect(other).toBeInstanceOf(WebSocket);
  // A closed socket gives its slot back.
  (first[0] as WebSocket).close();
  await Bun.sleep(200);
  expect(await open("198.51.100.1")).toBeInstanceOf(WebSocket);
});
