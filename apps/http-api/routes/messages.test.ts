import { afterEach, describe, expect, test } from "bun:test";
import { newDraft } from "../../../lib/chat/message.ts";
import { startTestApi, type TestApi } from "../../../testkit/http-api.ts";

let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

/** An owner with a room holding its join line (seq 1) and `count` messages (seq 2..count+1). */
async function roomWithHistory(count: number) {
  const owner = await api.signup();
  const created = await api.call("POST", "/api/rooms", {
    token: owner.token,
    body: { name: "h", maxMembers: 5 },
  });
  const roomId: string = created.body.room.id;
  for (let i = 1; i <= count; i++) await api.bus.publish(newDraft(roomId, "message", owner.user, `m${i}`));
  await api.syncBacklog();
  return { owner, roomId };
}

const seqs = (body: { messages: { seq: number }[] }) => body.messages.map((m) => m.seq);

describe("GET /api/rooms/:id/messages", () => {
  test("without a position: the newest, oldest first, 50 by default", async () => {
    api = await startTestApi();
    const { owner, roomId } = await roomWithHistory(60);
    const res = await api.call("GET", `/api/rooms/${roomId}/messages`, { token: owner.token });
    expect(res.status).toBe(200);
    expect(seqs(res.body)).toEqual(Array.from({ length: 50 }, (_, i) => i + 12));
    expect(res.body.messages.at(-1)).toMatchObject({
      type: "message",
      text: "m60",
      sender: owner.user,
      roomId,
    });
  });

  test("after= pages forward, before= pages backward", async () => {
    api = await startTestApi();
    const { owner, roomId } = await roomWithHistory(10);
    const after = await api.call("GET", `/api/rooms/${roomId}/messages?after=3&limit=2`, {
      token: owner.token,
    });
    expect(seqs(after.body)).toEqual([4, 5]);
    const before = await api.call("GET", `/api/rooms/${roomId}/messages?before=4&limit=5`, {
      token: owner.token,
    });
    expect(seqs(before.body)).toEqual([1, 2, 3]);
    expect(before.body.messages[0].type).toBe("join");
  });

  test("100 is the largest page; 101, both positions or a negative one are 400", async () => {
    api = await startTestApi();
    const { owner, roomId } = await roomWithHistory(0);
    const ok = await api.call("GET", `/api/rooms/${roomId}/messages?limit=100`, { token: owner.token });
    expect(ok.status).toBe(200);
    const big = await api.call("GET", `/api/rooms/${roomId}/messages?limit=101`, { token: owner.token });
    expect(big.status).toBe(400);
    expect(big.body.error.fields.limit).toBeString();
    const both = await api.call("GET", `/api/rooms/${roomId}/messages?after=1&before=5`, {
      token: owner.token,
    });
    expect(both.status).toBe(400);
    expect(both.body.error.fields.before).toContain("either");
    const negative = await api.call("GET", `/api/rooms/${roomId}/messages?after=-1`, { token: owner.token });
    expect(negative.body.error.fields.after).toBeString();
  });

  test("403 for non-members, 404 for unknown rooms, 401 without a token", async () => {
    api = await startTestApi();
    const { roomId } = await roomWithHistory(1);
    const stranger = await api.signup();
    const res = await api.call("GET", `/api/rooms/${roomId}/messages`, { token: stranger.token });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("not_member");
    const unknown = "01900000-0000-7000-8000-000000000000";
    expect((await api.call("GET", `/api/rooms/${unknown}/messages`, { token: stranger.token })).status).toBe(
      404,
    );
    expect((await api.call("GET", `/api/rooms/${roomId}/messages`)).status).toBe(401);
  });
});

describe("PATCH and DELETE /api/rooms/:id/messages/:seq", () => {
  test("the sender edits, the owner or sender deletes; lines in the log; history in its current state", async () => {
    api = await startTestApi();
    const { owner, roomId } = await roomWithHistory(0);
    const guest = await api.signup();
    await api.call("POST", `/api/rooms/${roomId}/join`, { token: guest.token });
    const said = await api.bus.publish(newDraft(roomId, "message", guest.user, "helo"));
    await api.syncBacklog();
    const path = `/api/rooms/${roomId}/messages/${said.seq}`;

    const notHers = await api.call("PATCH", path, { token: owner.token, body: { text: "mine" } });
    expect([notHers.status, notHers.body.error.code]).toEqual([403, "not_sender"]);
    const blank = await api.call("PATCH", path, { token: guest.token, body: { text: " " } });
    expect(blank.status).toBe(400);
    const edited = await api.call("PATCH", path, { token: guest.token, body: { text: "hello" } });
    expect(edited.status).toBe(200);
    expect(edited.body.message).toMatchObject({
      type: "edit",
      text: "hello",
      target: { id: said.id, seq: said.seq },
      sender: guest.user,
    });
    expect(api.published.at(-1)).toMatchObject({ type: "edit", seq: edited.body.message.seq });

    const removed = await api.call("DELETE", path, { token: owner.token });
    expect(removed.status).toBe(200);
    expect(removed.body.message).toMatchObject({ type: "delete", text: "", target: { seq: said.seq } });
    await api.syncBacklog();
    const again = await api.call("PATCH", path, { token: guest.token, body: { text: "back" } });
    expect([again.status, again.body.error.code]).toEqual([404, "message_deleted"]);
    const missing = await api.call("DELETE", `/api/rooms/${roomId}/messages/999999`, { token: owner.token });
    expect(missing.status).toBe(404);
    const joinLine = `/api/rooms/${roomId}/messages/1`;
    const notAMessage = await api.call("PATCH", joinLine, { token: owner.token, body: { text: "x" } });
    expect([notAMessage.status, notAMessage.body.error.code]).toEqual([400, "not_a_message"]);

    const history = await api.call("GET", `/api/rooms/${roomId}/messages`, { token: guest.token });
    const byType = history.body.messages.map((m: { type: string; text: string }) => [m.type, m.text]);
    expect(byType.slice(-3)).toEqual([
      ["message", ""],
      ["edit", ""],
      ["delete", ""],
    ]);
    expect(history.body.messages.at(-3).deletedAt).toBeString();
  });
});
