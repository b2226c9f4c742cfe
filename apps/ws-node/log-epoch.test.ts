import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExposition, sumSamples } from "../../lib/metrics/index.ts";
import { type AppProcess, startAppProcess } from "../../testkit/app-process.ts";
import { EMBEDDED_ONLY } from "../../testkit/embedded-app.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";

/**
 * The one-process app restarted with its bus.db deleted but its backlog kept: the new log's seqs
 * start again at 1. Nothing is dropped silently: a SUBSCRIBE to a room with history from the old log
 * gets an ERROR naming the problem, new messages are accepted but not written into the old history,
 * and both refusals are counted in /metrics.
 */
const dir = mkdtempSync(join(tmpdir(), "chattalk-epoch-app-"));
// Embedded adapters only, whatever services the test run has.
const env = {
  DATA_DIR: dir,
  JWT_SECRET: "log-epoch-test-secret-long-enough-for-hs256",
  ...EMBEDDED_ONLY,
  LOG_LEVEL: "silent",
};
let app: AppProcess | undefined;
afterAll(async () => {
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function post<T>(path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${app!.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  expect(res.ok).toBe(true);
  return (await res.json()) as T;
}

async function history(roomId: string, token: string): Promise<string[]> {
  const res = await fetch(`${app!.url}/api/rooms/${roomId}/messages`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as { messages: { text: string }[] };
  return body.messages.map((m) => m.text);
}

test("bus.db created anew next to a kept backlog: refused loudly, never dropped silently", async () => {
  app = await startAppProcess("apps/main.ts", env);
  const signup = await post<{ accessToken: string }>("/api/auth/signup", {
    username: `epoch${Date.now().toString(36)}`,
    password: "correct horse battery",
  });
  const token = signup.accessToken;
  const { room } = await post<{ room: { id: string } }>(
    "/api/rooms",
    { name: "epochs", maxMembers: 5 },
    token,
  );
  const ws = () => `${app!.url.replace("http:", "ws:")}/ws`;
  const sender = await RawStomp.connect(ws(), token);
  sender.sendFrame("SEND", { destination: `/topic/rooms/${room.id}`, receipt: "s1" }, '{"text":"before"}');
  await sender.next((f) => f.command === "RECEIPT");
  sender.close();
  await eventually(async () => (await history(room.id, token)).length === 2, "join line and message stored");
  await app.stop();

  for (const file of readdirSync(dir)) if (file.startsWith("bus.db")) rmSync(join(dir, file));
  app = await startAppProcess("apps/main.ts", env);

  const subscriber = await RawStomp.connect(ws(), token);
  subscriber.sendFrame("SUBSCRIBE", { id: "0", destination: `/topic/rooms/${room.id}`, receipt: "r1" });
  const error = await subscriber.next((f) => f.command === "ERROR", 10_000);
  expect(error.headers.message).toBe("room history unavailable");
  expect(subscriber.body(error)).toContain("earlier message log");

  const late = await RawStomp.connect(ws(), token);
  late.sendFrame("SEND", { destination: `/topic/rooms/${room.id}`, receipt: "s2" }, '{"text":"after"}');
  await late.next((f) => f.command === "RECEIPT");
  const conflicts = async () =>
    sumSamples(
      parseExposition(await fetch(`${app!.url}/metrics`).then((r) => r.text())),
      "chattalk_log_epoch_conflicts_total",
    );
  // One for the replay, then the writer's refusals of the new message, retried.
  await eventually(async () => (await conflicts()) >= 3, "the replay and the write refused and counted");
  expect(await history(room.id, token)).toEqual([expect.stringContaining("joined"), "before"]);
  late.close();
}, 60_000);
