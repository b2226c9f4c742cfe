import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { UserEvent } from "../../lib/chat/user-events.ts";
import type { Frame } from "../../lib/stomp/codec/frame.ts";
import { eventually } from "../../testkit/eventually.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { startWsHarness, type WsHarness } from "../../testkit/ws-harness.ts";

/** The live room list at /user/queue/events, on every connection of the user. */
let h: WsHarness;
type Member = { token: string; id: string; username: string; actor: { userId: string; username: string } };
let alice: Member;
let bob: Member;

beforeAll(async () => {
  h = await startWsHarness({ SEND_RATE_PER_SEC: "100", SEND_BURST: "100" });
  const member = async (name: string): Promise<Member> => {
    const { user, token } = await h.user(name);
    return {
      token,
      id: user.id,
      username: user.username,
      actor: { userId: user.id, username: user.username },
    };
  };
  alice = await member("alice");
  bob = await member("bob");
});
afterAll(() => h.stop());

const isEvent = (f: Frame) => f.command === "MESSAGE" && f.headers.destination === "/user/queue/events";
const event = (f: Frame) => JSON.parse(new TextDecoder().decode(f.body)) as UserEvent;

async function listening(m: Member): Promise<{ c: RawStomp; first: UserEvent }> {
  const c = await RawStomp.connect(h.url, m.token);
  c.sendFrame("SUBSCRIBE", { id: "events", destination: "/user/queue/events", receipt: "e" });
  await c.next((f) => f.command === "RECEIPT");
  return { c, first: event(await c.next(isEvent)) };
}

const nextEvent = async (c: RawStomp, type: UserEvent["type"], timeoutMs = 5000) =>
  event(await c.next((f) => isEvent(f) && event(f).type === type, timeoutMs));

describe("/user/queue/events", () => {
  test("the room list first; joining, renaming and new DMs reach every connection of the user", async () => {
    const room = await h.node.chat.rooms.create(alice.actor, { name: "plans", maxMembers: 10 });
    const one = await listening(bob);
    const two = await listening(bob);
    expect(one.first.type).toBe("rooms");
    expect((one.first as { rooms: unknown[] }).rooms).toEqual([]);
    await h.node.chat.rooms.join(bob.actor, room.id);
    for (const c of [one.c, two.c]) {
      const joined = await nextEvent(c, "joined");
      expect(joined).toMatchObject({ type: "joined", room: { id: room.id, name: "plans", unreadCount: 0 } });
    }
    await h.node.chat.admin.update(alice.actor, room.id, { name: "Plans 2" });
    for (const c of [one.c, two.c])
      expect(await nextEvent(c, "updated")).toMatchObject({ room: { id: room.id, name: "Plans 2" } });
    const dm = await h.node.chat.dms.open(alice.actor, bob.id);
    expect(await nextEvent(one.c, "dm")).toMatchObject({
      room: { id: dm.room.id, kind: "dm", peer: { id: alice.id } },
    });
    // A third connection starts from the list as it is now.
    const three = await listening(bob);
    const ids = (three.first as { rooms: { id: string }[] }).rooms.map((r) => r.id).sort();
    expect(ids).toEqual([room.id, dm.room.id].sort());
    for (const x of [one, two, three]) x.c.close();
  });

  test("unread counts arrive coalesced, and drop to 0 when the user reads the room", async () => {
    const room = await h.node.chat.rooms.create(alice.actor, { name: "busy", maxMembers: 10 });
    await h.node.chat.rooms.join(bob.actor, room.id);
    const { c } = await listening(bob);
    for (let i = 0; i < 5; i++) await h.node.chat.messages.accept(alice.actor, room.id, { text: `m${i}` });
    // Others' chat messages after bob's read position count, as GET /api/rooms counts them — not his
    // own, nor join, leave or update lines, edits or deletes: one event once the count has settled.
    await h.node.chat.messages.accept(bob.actor, room.id, { text: "mine" });
    await h.node.chat.admin.update(alice.actor, room.id, { description: "now busier" });
    const carol = await h.user("carol-unread");
    await h.node.chat.rooms.join({ userId: carol.user.id, username: carol.user.username }, room.id);
    const unread = await nextEvent(c, "unread");
    expect(unread).toMatchObject({ roomId: room.id, unreadCount: 5, unreadCountCapped: false });
    await eventually(
      async () => (await h.node.chat.rooms.mine(bob.actor)).find((r) => r.id === room.id)?.unreadCount === 5,
      "the same count from the history",
    );
    await Bun.sleep(300);
    // One unread event (the update is told apart, as "updated").
    const more = c.take("MESSAGE").filter(isEvent).map(event);
    expect(more.filter((e) => e.type === "unread")).toHaveLength(0);
    // Reading: a subscription to the room moves bob's read position to the end.
    const reader = await RawStomp.connect(h.url, bob.token);
    reader.sendFrame("SUBSCRIBE", { id: "room", destination: `/topic/rooms/${room.id}` });
    expect(await nextEvent(c, "unread", 8000)).toMatchObject({ roomId: room.id, unreadCount: 0 });
    reader.close();
    c.close();
  }, 20_000);

  test("removed, banned and deleted rooms leave the list at once", async () => {
    const room = await h.node.chat.rooms.create(alice.actor, { name: "strict", maxMembers: 10 });
    await h.node.chat.rooms.join(bob.actor, room.id);
    const { c } = await listening(bob);
    await h.node.chat.admin.remove(alice.actor, room.id, bob.id, { ban: false });
    expect(await nextEvent(c, "left")).toEqual({ type: "left", roomId: room.id, reason: "removed" });
    await h.node.chat.rooms.join(bob.actor, room.id);
    await nextEvent(c, "joined");
    await h.node.chat.rooms.leave(bob.actor, room.id);
    expect(await nextEvent(c, "left")).toEqual({ type: "left", roomId: room.id, reason: "left" });
    await h.node.chat.rooms.join(bob.actor, room.id);
    await nextEvent(c, "joined");
    await h.node.chat.rooms.delete(alice.actor, room.id);
    expect(await nextEvent(c, "deleted")).toEqual({ type: "deleted", roomId: room.id });
    // Events of rooms bob is not in never reach him.
    const other = await h.node.chat.rooms.create(alice.actor, { name: "elsewhere", maxMembers: 10 });
    await h.node.chat.admin.update(alice.actor, other.id, { name: "still elsewhere" });
    await h.node.chat.messages.accept(alice.actor, other.id, { text: "hi" });
    await Bun.sleep(2000);
    expect(c.take("MESSAGE").filter(isEvent)).toHaveLength(0);
    c.close();
  }, 15_000);

  test("only ack:auto; the list is per user", async () => {
    const c = await RawStomp.connect(h.url, alice.token);
    c.sendFrame("SUBSCRIBE", { id: "e", destination: "/user/queue/events", ack: "client" });
    expect((await c.next()).headers.message).toBe("invalid header: ack");
    await eventually(() => c.isClosed, "the close");
  });
});
