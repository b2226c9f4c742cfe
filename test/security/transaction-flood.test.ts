import { afterAll, beforeAll, expect, test } from "bun:test";
import { type EmbeddedApp, startEmbeddedApp } from "../../testkit/embedded-app.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

/**
 * Issue 13, row 1, as it was found: an account opens 16 transactions × 1,023 SENDs of 30 KB and never
 * commits. It used to cost +580 MB of RSS per connection (+1.67 GB for three). Now a SEND is vetted
 * as it enters a transaction and what is held is bounded in bytes per connection and per user, so
 * the app's memory stays within a stated bound and every refusal is seen by the attacker.
 *
 * The SEND rate limit is lifted so the bounds themselves are what stop the growth (with the default
 * rate, the limit — now taken as a SEND enters a transaction — stops it even sooner).
 */
const RSS_GROWTH_BOUND = 150 * 1024 * 1024;
const BODY = JSON.stringify({ text: "x".repeat(30_000) });
let app: EmbeddedApp;

beforeAll(async () => {
  app = await startEmbeddedApp({
    SEND_RATE_PER_SEC: "100000",
    SEND_BURST: "100000",
    MESSAGE_MAX_CHARS: "30000",
  });
}, 60_000);
afterAll(() => app?.stop());

/** 16 transactions × 1,023 SENDs, paced by the socket's own buffer, until done or closed. */
async function flood(c: RawStomp, destination: string): Promise<number> {
  let sent = 0;
  for (let t = 0; t < 16 && !c.isClosed; t++) {
    c.sendFrame("BEGIN", { transaction: `t${t}` });
    for (let i = 0; i < 1023 && !c.isClosed; i++) {
      c.sendFrame("SEND", { destination, transaction: `t${t}`, receipt: `${t}-${i}` }, BODY);
      sent++;
      while (!c.isClosed && c.ws.bufferedAmount > 4 * 1024 * 1024) await Bun.sleep(1);
    }
  }
  return sent;
}

test("16 transactions × 1,023 SENDs of 30 KB, never committed: memory stays bounded, refusals are seen", async () => {
  const owner = await app.signup("owner");
  const outsider = await app.signup("outsider");
  const created = await app.call("POST", "/api/rooms", { name: "target", maxMembers: 10 }, owner.token);
  expect(created.status).toBe(201);
  const destination = `/topic/rooms/${created.body.room.id}`;

  await Bun.sleep(500);
  const before = app.rss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, app.rss());
  }, 50);

  // A non-member listening for notices stays connected: every SEND is refused as it arrives.
  const stranger = await RawStomp.connect(app.wsUrl, outsider.token);
  stranger.sendFrame("SUBSCRIBE", { id: "e", destination: "/user/queue/errors" });
  // Three connections of a member: valid SENDs, held until a bound says no.
  const members = await Promise.all([0, 1, 2].map(() => RawStomp.connect(app.wsUrl, owner.token)));
  const [strangerSent] = await Promise.all([
    flood(stranger, destination),
    ...members.map((c) => flood(c, destination)),
  ]);
  expect(strangerSent).toBe(16 * 1023);
  const last = await stranger.next((f) => f.headers["receipt-id"] === "15-1022", 60_000);
  expect(JSON.parse(stranger.body(last)).code).toBe("forbidden");

  for (const c of members) {
    const error = await c.next((f) => f.command === "ERROR");
    expect(error.headers.message).toBe("limit exceeded: transaction frames");
    await c.closed;
  }
  clearInterval(sampler);
  peak = Math.max(peak, app.rss());
  const growth = peak - before;
  console.log(
    `transaction flood: RSS ${(before / 2 ** 20).toFixed(0)} MB → peak +${(growth / 2 ** 20).toFixed(1)} MB`,
  );
  expect(growth).toBeLessThan(RSS_GROWTH_BOUND);

  // The node still serves: a fresh connection of the attacker's own account works.
  const again = await RawStomp.connect(app.wsUrl, owner.token);
  again.sendFrame("SEND", { destination, receipt: "ok" }, JSON.stringify({ text: "still here" }));
  expect((await again.next((f) => f.command === "RECEIPT")).headers["receipt-id"]).toBe("ok");
  again.close();
  stranger.close();
}, 120_000);
