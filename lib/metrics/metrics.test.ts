import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";
import { parseExposition, type Sample, sumSamples } from "./exposition.ts";
import { closeReason, createMetrics, type Metrics } from "./metrics.ts";
import { metricsMount } from "./mount.ts";

/** A ws-node on embedded adapters, observed the way apps/ws-node/main.ts observes it. */
let h: WsHarness;
let metrics: Metrics;

beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "0.01", SEND_BURST: "2" });
  metrics = createMetrics({ app: "ws-node", node: "test-node" });
  metrics.observeEndpoint("ws", h.node.endpoint);
  metrics.observeDeliveries(() => h.node.hub.delivered);
});

afterAll(async () => {
  await metrics.close();
  await h.stop();
});

async function scrape(): Promise<Sample[]> {
  const res = await metricsMount(metrics).handle(new Request("http://x/metrics"), h.server, "127.0.0.1");
  expect(res!.headers.get("content-type")).toContain("text/plain");
  return parseExposition(await res!.text());
}

describe("STOMP endpoint metrics", () => {
  test("connections, frames by command, deliveries, rate-limit refusals and disconnect reasons", async () => {
    const { user, token } = await h.user("metrics");
    const room = await h.room(user.id);
    const client = await RawStomp.connect(h.url, token);
    client.sendFrame("SUBSCRIBE", { id: "s1", destination: `/topic/rooms/${room.id}`, receipt: "r1" });
    await client.next((f) => f.command === "RECEIPT");
    client.sendFrame("SEND", { destination: `/topic/rooms/${room.id}`, receipt: "r2" }, '{"text":"hi"}');
    await client.next((f) => f.command === "RECEIPT");
    await client.next((f) => f.command === "MESSAGE");

    let s = await scrape();
    const ws = { endpoint: "ws" };
    expect(sumSamples(s, "chattalk_stomp_connections", ws)).toBe(1);
    expect(sumSamples(s, "chattalk_stomp_frames_in_total", { ...ws, command: "CONNECT" })).toBe(1);
    expect(sumSamples(s, "chattalk_stomp_frames_in_total", { ...ws, command: "SUBSCRIBE" })).toBe(1);
    expect(sumSamples(s, "chattalk_stomp_frames_in_total", { ...ws, command: "SEND" })).toBe(1);
    expect(sumSamples(s, "chattalk_stomp_frames_out_total", { ...ws, command: "CONNECTED" })).toBe(1);
    expect(sumSamples(s, "chattalk_stomp_frames_out_total", { ...ws, command: "RECEIPT" })).toBe(2);
    expect(sumSamples(s, "chattalk_stomp_frames_out_total", { ...ws, command: "MESSAGE" })).toBe(1);
    expect(sumSamples(s, "chattalk_messages_delivered_total")).toBe(1);
    expect(s.find((x) => x.name === "chattalk_stomp_connections")?.labels).toMatchObject({
      app: "ws-node",
      node: "test-node",
    });

    // The burst of 2 is spent: the third SEND is refused, with ERROR (no notice subscription) and 1008.
    client.sendFrame("SEND", { destination: `/topic/rooms/${room.id}` }, '{"text":"again"}');
    client.sendFrame("SEND", { destination: `/topic/rooms/${room.id}` }, '{"text":"too many"}');
    expect((await client.closed).code).toBe(1008);
    for (let i = 0; i < 100 && h.node.endpoint.sessions.size > 0; i++) await Bun.sleep(10);

    s = await scrape();
    expect(sumSamples(s, "chattalk_stomp_rate_limited_total", ws)).toBe(1);
    expect(sumSamples(s, "chattalk_stomp_frames_in_total", { ...ws, command: "SEND" })).toBe(3);
    expect(sumSamples(s, "chattalk_stomp_frames_out_total", { ...ws, command: "ERROR" })).toBe(1);
    expect(sumSamples(s, "chattalk_stomp_connections", ws)).toBe(0);
    expect(sumSamples(s, "chattalk_stomp_disconnects_total", { ...ws, code: "1008", reason: "policy" })).toBe(
      1,
    );
    // Heart-beats are not frames.
    client.send("\n");
    expect(Object.keys(h.node.endpoint.stats.framesIn).sort()).toEqual(["CONNECT", "SEND", "SUBSCRIBE"]);
  });

  test("default process metrics are included", async () => {
    const s = await scrape();
    expect(sumSamples(s, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});

describe("bus publish latency", () => {
  test("every publish is timed, with its outcome", async () => {
    const m = createMetrics({ app: "t", defaultMetrics: false });
    const bus = m.timeBus(h.backends.bus);
    const { user } = await h.user("timer");
    const room = await h.room(user.id);
    const msg = await bus.publish({
      id: crypto.randomUUID(),
      roomId: room.id,
      type: "message",
      sender: { id: user.id, username: user.username },
      text: "timed",
      sentAt: new Date().toISOString(),
    });
    expect(msg.seq).toBeGreaterThan(0);
    await bus.publishControl({ type: "room-deleted", roomId: crypto.randomUUID() });
    const s = parseExposition(await m.scrape());
    expect(sumSamples(s, "chattalk_bus_publish_seconds_count", { kind: "message", outcome: "ok" })).toBe(1);
    expect(sumSamples(s, "chattalk_bus_publish_seconds_count", { kind: "control", outcome: "ok" })).toBe(1);
    await m.close();
  });
});

describe("close reasons", () => {
  test("codes map to names; unknown codes are 'other'", () => {
    expect(closeReason(4008)).toBe("slow_consumer");
    expect(closeReason(1006)).toBe("abnormal");
    expect(closeReason(3999)).toBe("other");
  });
});
