import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { type EmbeddedApp, startEmbeddedApp } from "../../testkit/embedded-app.ts";
import { ensureVenv } from "../../testkit/python-venv.ts";

/**
 * stomp.py (PyPI, pinned, unchanged; installed once into a virtualenv under ~/.cache/chattalk) against
 * the one-process app: every chat-feature frame shape — typing on /topic/rooms/<id>/typing, the edit
 * and delete lines, read receipts, the live room list on /user/queue/events — as a Python client
 * receives and sends it over STOMP 1.2 on WebSocket. The client script is testkit/fixtures/stomp_py_features.py.
 */
const STOMP_PY = "stomp.py==8.2.0";
const SCRIPT = new URL("../../testkit/fixtures/stomp_py_features.py", import.meta.url).pathname;

let app: EmbeddedApp;
let python = "";
beforeAll(async () => {
  python = join(ensureVenv("stomp-py-8.2.0", [STOMP_PY], "bin/stomp"), "bin/python");
  app = await startEmbeddedApp();
}, 400_000);
afterAll(async () => {
  await app?.stop();
});

test("stomp.py: typing, edit and delete lines, read receipts and the live room list, unchanged", async () => {
  const alice = await app.signup("py-alice");
  const bob = await app.signup("py-bob");
  const made = await app.call("POST", "/api/rooms", { name: "py-room", maxMembers: 5 }, alice.token);
  expect(made.status).toBe(201);
  const roomId: string = made.body.room?.id ?? made.body.id;
  expect((await app.call("POST", `/api/rooms/${roomId}/join`, undefined, bob.token)).status).toBe(200);
  const { hostname, port } = new URL(app.url);
  const p = Bun.spawn([python, SCRIPT, hostname, port, alice.token, bob.token, alice.id, bob.id, roomId], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const killer = setTimeout(() => p.kill(), 90_000);
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  clearTimeout(killer);
  if (code !== 0) console.log(`${out}\n${err}`);
  expect(code).toBe(0);
  const seen = JSON.parse(out);
  expect(seen.rooms.rooms.map((r: { id: string }) => r.id)).toContain(roomId);
  expect(seen.receiptsSnapshot).toMatchObject({ type: "receipts", roomId });
  expect(seen.typing).toEqual({
    type: "typing",
    roomId,
    typing: [{ id: alice.id, username: alice.username }],
    count: 1,
  });
  const seq = Number(seen.receipt.seq);
  expect(seq).toBeGreaterThan(0);
  expect(seen.line).toMatchObject({ type: "message", seq, text: "helo", sender: { id: alice.id } });
  expect(seen.typingAfter).toMatchObject({ type: "typing", count: 0, typing: [] });
  expect(seen.editStatus).toBe(200);
  expect(seen.edit).toMatchObject({ type: "edit", text: "hello", target: { seq }, sender: { id: alice.id } });
  expect(seen.deleteStatus).toBe(200);
  expect(seen.delete).toMatchObject({ type: "delete", text: "", target: { seq } });
  expect(seen.receipts.type).toBe("receipts");
  expect(seen.receipts.positions).toContainEqual({ userId: bob.id, seq: expect.any(Number) });
  expect(seen.updated).toMatchObject({ type: "updated", room: { id: roomId, name: "renamed by alice" } });
  // stomp.py's typing SEND (json.dumps' body, with content-length) took the signals' fast path.
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  const atOnce = /^chattalk_stomp_sends_at_once_total\{[^}]*\} (\d+)/m.exec(metrics);
  expect(Number(atOnce?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
}, 120_000);
