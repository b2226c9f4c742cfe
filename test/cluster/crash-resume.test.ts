import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tokenServiceFromConfig } from "../../lib/auth/index.ts";
import { openStores } from "../../lib/backends.ts";
import { parseConfig } from "../../lib/config/index.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import { type AppProcess, startAppProcess } from "../../testkit/app-process.ts";
import { EMBEDDED_ONLY } from "../../testkit/embedded-app.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

/**
 * Issue 14, item 3: a member who resumes from the stored read position (no x-since-seq) after the node
 * serving it is killed (-9). The guarantee (docs/protocol.md): no gap; what it may get again is only
 * what it had already received, each MESSAGE carrying `seq` so that a stock STOMP client drops it.
 */
const dir = mkdtempSync(join(tmpdir(), "chattalk-crash-resume-"));
const env = {
  DATA_DIR: dir,
  JWT_SECRET: "crash-resume-secret-long-enough-for-hs256",
  SEND_RATE_PER_SEC: "1000",
  SEND_BURST: "1000",
  ...EMBEDDED_ONLY,
};
let node: AppProcess | undefined;
afterAll(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Got {
  seq: number;
  text: string;
  replay: boolean;
}

test("kill -9 of the node: resuming from the read position loses nothing; repeats are droppable by seq", async () => {
  const config = parseConfig(env);
  const stores = await openStores(config);
  const tokens = tokenServiceFromConfig(config);
  const [alice, bob] = await Promise.all(
    ["a", "b"].map((n) => stores.users.createUser(`${n}${Date.now()}`, "x")),
  );
  const room = await stores.rooms.createRoom({ name: "crash", ownerId: alice!.id, maxMembers: 10 });
  await stores.rooms.join(room.id, bob!.id, 0);
  const [aliceToken, bobToken] = await Promise.all([
    tokens.issueAccessToken(alice!),
    tokens.issueAccessToken(bob!),
  ]);
  await stores.close();
  node = await startAppProcess("apps/ws-node/main.ts", env);
  const port = new URL(node.url).port;
  const url = `ws://127.0.0.1:${port}/ws`;
  const dest = `/topic/rooms/${room.id}`;

  const got: Got[] = [];
  const receive = async () => {
    const c = await RawStomp.connect(url, bobToken, { "heart-beat": "0,0" });
    c.onFrame = (f: Frame) => {
      if (f.command !== "MESSAGE") return;
      const body = JSON.parse(new TextDecoder().decode(f.body)) as { seq: number; text: string };
      // What a stock client needs to drop a repeat is in the headers.
      expect(f.headers.seq).toBe(String(body.seq));
      got.push({ seq: body.seq, text: body.text, replay: f.headers["x-replay"] === "true" });
    };
    c.sendFrame("SUBSCRIBE", { id: "room", destination: dest, receipt: "in" });
    await c.next((f) => f.command === "RECEIPT");
    return c;
  };
  const sendAll = async (texts: string[]) => {
    const a = await RawStomp.connect(url, aliceToken);
    for (const t of texts)
      a.sendFrame("SEND", { destination: dest, receipt: t }, JSON.stringify({ text: t }));
    for (const t of texts) await a.next((f) => f.command === "RECEIPT" && f.headers["receipt-id"] === t);
    a.close();
  };

  await receive();
  const before = Array.from({ length: 60 }, (_, i) => `before ${i}`);
  // The first half long enough before the crash for bob's position to be confirmed and saved.
  await sendAll(before.slice(0, 30));
  await Bun.sleep(2_500);
  await sendAll(before.slice(30));
  // Everything receipted has reached bob; some of it his read position covers, the rest not yet.
  const deadline = performance.now() + 10_000;
  while (got.length < before.length && performance.now() < deadline) await Bun.sleep(20);
  expect(got.map((g) => g.text)).toEqual(before);
  const shownBeforeCrash = Math.max(...got.map((g) => g.seq));

  node.proc.kill("SIGKILL");
  await node.proc.exited;
  node = await startAppProcess("apps/ws-node/main.ts", { ...env, PORT: port });
  const after = Array.from({ length: 10 }, (_, i) => `after ${i}`);
  await receive();
  await sendAll(after);
  const until = performance.now() + 10_000;
  while (!got.some((g) => g.text === "after 9") && performance.now() < until) await Bun.sleep(20);

  // A stock client keeps the highest seq it has shown and drops anything at or below it.
  const shown: Got[] = [];
  const repeats: Got[] = [];
  for (const g of got) {
    if (shown.length > 0 && g.seq <= shown.at(-1)!.seq) repeats.push(g);
    else shown.push(g);
  }
  expect(shown.map((g) => g.text)).toEqual([...before, ...after]);
  // Repeats are only messages received before the crash, replayed as missed.
  for (const r of repeats) {
    expect(r.seq).toBeLessThanOrEqual(shownBeforeCrash);
    expect(r.replay).toBe(true);
  }
  // And only the last moments before the crash: the saved read position covered the first half.
  expect(repeats.length).toBeLessThanOrEqual(30);
  console.log(`crash resume: ${repeats.length} repeats after kill -9 (dropped by seq), no gap`);
}, 60_000);
