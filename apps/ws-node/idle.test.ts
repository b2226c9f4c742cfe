import { afterAll, beforeAll, expect, test } from "bun:test";
import { StalledClient } from "../../testkit/stalled-client.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

// Bun's shortest idle timeout is 8 s: a peer that answers neither data nor WebSocket pings for that
// long is dead and its connection is closed, whatever STOMP heart-beats it negotiated (here none).
let h: WsHarness;
beforeAll(async () => {
  h = await startWsHarness({ IDLE_TIMEOUT_SEC: "8" });
});
afterAll(() => h.stop());

test("a peer that stops answering is closed after the idle timeout", async () => {
  const { token } = await h.user("idle");
  const client = await StalledClient.open(h.server.port!);
  client.send(`CONNECT\naccept-version:1.2\nheart-beat:0,0\npasscode:${token}\n\n\u0000`);
  await client.waitFor("CONNECTED");
  const [session] = [...h.node.endpoint.sessions];
  client.stall();
  const deadline = performance.now() + 20_000;
  while (session!.state !== "closed" && performance.now() < deadline) await Bun.sleep(100);
  expect(session!.state).toBe("closed");
  client.end();
}, 30_000);
