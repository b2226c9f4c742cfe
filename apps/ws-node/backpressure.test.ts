import { afterAll, beforeAll, expect, test } from "bun:test";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { StalledClient } from "../../testkit/stalled-client.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

let h: WsHarness;
beforeAll(async () => {
  h = await startWsHarness({
    SEND_BUFFER_LIMIT_BYTES: "65536",
    SEND_RATE_PER_SEC: "100000",
    SEND_BURST: "100000",
    MESSAGE_MAX_CHARS: "4000",
  });
});
afterAll(() => h.stop());

test("a consumer that stops reading is cut off, and gets everything back when it reconnects", async () => {
  const alice = await h.user("alice");
  const slow = await h.user("slow");
  const room = await h.room(alice.user.id);
  await h.join(room.id, slow.user.id);
  const dest = `/topic/rooms/${room.id}`;

  const stalled = await StalledClient.open(h.server.port!);
  stalled.send(`CONNECT\naccept-version:1.2\nheart-beat:0,0\npasscode:${slow.token}\n\n\u0000`);
  await stalled.waitFor("CONNECTED");
  stalled.send(`SUBSCRIBE\nid:sub-0\ndestination:${dest}\nreceipt:ready\n\n\u0000`);
  await stalled.waitFor("receipt-id:ready");
  stalled.stall();
  const [stalledSession] = [...h.node.endpoint.sessions];

  // Far more than the kernel's socket buffers and the 64 KiB send-buffer limit can hold.
  const sender = await RawStomp.connect(h.url, alice.token);
  const text = "x".repeat(3900);
  const count = 1500;
  for (let i = 0; i < count; i++) {
    sender.sendFrame(
      "SEND",
      { destination: dest, receipt: `r${i}` },
      JSON.stringify({ text: `${i} ${text}` }),
    );
  }
  await sender.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === `r${count - 1}`, 30_000);
  const deadline = performance.now() + 10_000;
  while (stalledSession!.state !== "closed" && performance.now() < deadline) await Bun.sleep(20);
  expect(stalledSession!.state).toBe("closed");
  expect(h.node.endpoint.sessions.has(stalledSession!)).toBe(false);
  stalled.end();

  // Reconnecting, the slow member receives every message, in order, marked as missed.
  const back = await RawStomp.connect(h.url, slow.token);
  back.sendFrame("SUBSCRIBE", { id: "sub-0", destination: dest });
  const seen: number[] = [];
  while (seen.length < count) {
    const f = await back.next((x) => x.command === "MESSAGE", 15_000);
    seen.push(Number(JSON.parse(back.body(f)).text.split(" ")[0]));
  }
  expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
  back.close();
  sender.close();
}, 60_000);
