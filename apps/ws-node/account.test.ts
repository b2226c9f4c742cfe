import { afterAll, beforeAll, expect, test } from "bun:test";
import { sessionsRevoked } from "../../lib/chat/control.ts";
import type { ChatMessage } from "../../lib/chat/message.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/** A deleted account over STOMP: its sessions end, it cannot connect again, replay names it "deleted user". */
let h: WsHarness;
beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "100", SEND_BURST: "100" });
});
afterAll(() => h.stop());

test("deleting an account ends its sessions at once, refuses its token, and replay shows 'deleted user'", async () => {
  const [carol, dan] = [await h.user("carol"), await h.user("dan")];
  const carolActor = { userId: carol.user.id, username: carol.user.username };
  const room = await h.node.chat.rooms.create(
    { userId: dan.user.id, username: dan.user.username },
    { name: "r", maxMembers: 5 },
  );
  await h.node.chat.rooms.join(carolActor, room.id);
  const dest = `/topic/rooms/${room.id}`;
  const sessions = [await RawStomp.connect(h.url, carol.token), await RawStomp.connect(h.url, carol.token)];
  const bystander = await RawStomp.connect(h.url, dan.token);
  sessions[0]!.sendFrame(
    "SEND",
    { destination: dest, receipt: "said" },
    JSON.stringify({ text: "carol was here" }),
  );
  await sessions[0]!.next((f) => f.command === "RECEIPT");

  // What DELETE /api/me does: the domain deletes the account, then its sessions are revoked.
  await h.node.chat.users.deleteAccount(carolActor);
  await h.backends.bus.publishControl(sessionsRevoked(carol.user.id, "account-deleted"));
  for (const s of sessions) {
    const error = await s.next((f) => f.command === "ERROR");
    expect(error.headers.message).toBe("session revoked");
    expect(error.headers["x-revoked-reason"]).toBe("account-deleted");
    expect((await s.closed).code).toBe(4003);
  }
  expect(bystander.isClosed).toBe(false);
  // The token still verifies, but the account is gone (its row kept, marked deleted): CONNECT is refused.
  const again = await RawStomp.open(h.url, ["v12.stomp"]);
  again.sendFrame("CONNECT", { "accept-version": "1.2", Authorization: `Bearer ${carol.token}` });
  const refused = await again.next();
  expect(refused.command).toBe("ERROR");
  expect(refused.headers.message).toBe("authentication failed");

  // A member catching up sees carol's words under "deleted user", and her leave line.
  await eventually(async () => {
    const stored = await h.backends.backlog.after(room.id, 0, 50);
    return (
      stored.some((m) => m.accountDeleted) && stored.every((m) => m.sender.username !== carol.user.username)
    );
  }, "the backlog to re-attribute carol's lines");
  bystander.sendFrame("SUBSCRIBE", { id: "room", destination: dest, "x-since-seq": "0", receipt: "s" });
  await bystander.next((f) => f.command === "RECEIPT");
  const replayed: ChatMessage[] = [];
  for (;;) {
    const m = JSON.parse(bystander.body(await bystander.next((f) => f.command === "MESSAGE"))) as ChatMessage;
    replayed.push(m);
    if (m.accountDeleted) break;
  }
  const hers = replayed.filter((m) => m.sender.id === carol.user.id);
  expect(hers.map((m) => [m.type, m.sender.username])).toEqual([
    ["join", "deleted user"],
    ["message", "deleted user"],
    ["leave", "deleted user"],
  ]);
  bystander.close();
});
