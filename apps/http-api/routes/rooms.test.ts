import { afterEach, describe, expect, test } from "bun:test";
import { BusUnavailableError, type MessageBus } from "../../../lib/bus/types.ts";
import { newDraft } from "../../../lib/chat/message.ts";
import { startTestApi, type TestApi } from "../testing.ts";

let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

/** A bus that refuses every publish, as Kafka does when it cannot take a message in time. */
const refusingBus = (bus: MessageBus): MessageBus => ({
  ...bus,
  publish: async () => {
    throw new BusUnavailableError("bus down");
  },
  publishControl: async () => {
    throw new BusUnavailableError("bus down");
  },
});

async function roomOf(owner: { token: string }, maxMembers = 5, name = "lobby") {
  const res = await api.call("POST", "/api/rooms", { token: owner.token, body: { name, maxMembers } });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.room as { id: string; memberCount: number };
}

const missingRoom = "01900000-0000-7000-8000-000000000000";

describe("POST /api/rooms", () => {
  test("201: the creator owns the room, is its first member, and a join line is published", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const res = await api.call("POST", "/api/rooms", {
      token: owner.token,
      body: { name: " Lobby ", maxMembers: 5 },
    });
    expect(res.status).toBe(201);
    expect(res.body.room).toMatchObject({
      name: "Lobby",
      ownerId: owner.user.id,
      maxMembers: 5,
      memberCount: 1,
    });
    expect(res.body.room.createdAt).toBeString();
    const line = api.published.at(-1)!;
    expect(line).toMatchObject({ roomId: res.body.room.id, type: "join", sender: owner.user });
    expect(await api.stores.rooms.getReadPosition(res.body.room.id, owner.user.id)).toBe(line.seq);
  });

  test("400 with reasons for each bad field", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const res = await api.call("POST", "/api/rooms", {
      token: owner.token,
      body: { name: "  ", maxMembers: 1.5 },
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.fields).sort()).toEqual(["maxMembers", "name"]);
    const tooSmall = await api.call("POST", "/api/rooms", {
      token: owner.token,
      body: { name: "a", maxMembers: 1 },
    });
    expect(tooSmall.body.error.fields.maxMembers).toBeString();
    const control = await api.call("POST", "/api/rooms", {
      token: owner.token,
      body: { name: "a\u0007", maxMembers: 2 },
    });
    expect(control.body.error.fields.name).toContain("control");
  });

  test("401 without a token", async () => {
    api = await startTestApi();
    const res = await api.call("POST", "/api/rooms", { body: { name: "x", maxMembers: 3 } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("token_missing");
  });

  test("503 when the bus refuses the join line; no room is left behind", async () => {
    api = await startTestApi({ wrapBus: refusingBus });
    const owner = await api.signup();
    const res = await api.call("POST", "/api/rooms", {
      token: owner.token,
      body: { name: "x", maxMembers: 3 },
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("bus_unavailable");
    expect(await api.stores.rooms.listForMember(owner.user.id)).toEqual([]);
  });
});

describe("GET /api/rooms and /api/rooms/discover", () => {
  test("my rooms carry read positions and unread counts; earlier history is not unread for a new member", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const room = await roomOf(owner);
    for (const text of ["one", "two"]) await api.bus.publish(newDraft(room.id, "message", owner.user, text));
    expect((await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token })).status).toBe(200);
    await api.bus.publish(newDraft(room.id, "message", owner.user, "three"));
    await api.syncBacklog();

    const mine = await api.call("GET", "/api/rooms", { token: guest.token });
    expect(mine.status).toBe(200);
    expect(mine.body.rooms).toHaveLength(1);
    expect(mine.body.rooms[0]).toMatchObject({ id: room.id, memberCount: 2, unreadCount: 1 });
    const ownerView = await api.call("GET", "/api/rooms", { token: owner.token });
    // The owner has read up to the creation line: two messages, the guest's join line, one more.
    expect(ownerView.body.rooms[0].unreadCount).toBe(4);
  });

  test("discover lists rooms the caller is not in, paged", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const other = await api.signup();
    const a = await roomOf(owner, 5, "a");
    const b = await roomOf(owner, 5, "b");
    const own = await roomOf(other, 5, "mine");
    const res = await api.call("GET", "/api/rooms/discover", { token: other.token });
    expect(res.status).toBe(200);
    expect(res.body.rooms.map((r: { id: string }) => r.id)).toEqual([b.id, a.id]);
    expect(res.body.rooms.map((r: { id: string }) => r.id)).not.toContain(own.id);
    const page = await api.call("GET", "/api/rooms/discover?limit=1&offset=1", { token: other.token });
    expect(page.body.rooms.map((r: { id: string }) => r.id)).toEqual([a.id]);
  });

  test("400 for a bad page, 401 without a token", async () => {
    api = await startTestApi();
    const user = await api.signup();
    const bad = await api.call("GET", "/api/rooms/discover?limit=0&offset=-1", { token: user.token });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fields).sort()).toEqual(["limit", "offset"]);
    expect((await api.call("GET", "/api/rooms")).status).toBe(401);
    expect((await api.call("GET", "/api/rooms/discover")).status).toBe(401);
  });
});

describe("GET /api/rooms/:id", () => {
  test("200 for any signed-in user, saying whether they are a member", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const other = await api.signup();
    const room = await roomOf(owner);
    const asOwner = await api.call("GET", `/api/rooms/${room.id}`, { token: owner.token });
    expect(asOwner.status).toBe(200);
    expect(asOwner.body).toMatchObject({ room: { id: room.id }, isMember: true });
    expect((await api.call("GET", `/api/rooms/${room.id}`, { token: other.token })).body.isMember).toBe(
      false,
    );
  });

  test("400 for an id that is not a UUID, 404 for an unknown room, 401 without a token", async () => {
    api = await startTestApi();
    const user = await api.signup();
    const bad = await api.call("GET", "/api/rooms/not-a-uuid", { token: user.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.id).toBeString();
    const missing = await api.call("GET", `/api/rooms/${missingRoom}`, { token: user.token });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("room_not_found");
    expect((await api.call("GET", `/api/rooms/${missingRoom}`)).status).toBe(401);
  });
});

describe("POST /api/rooms/:id/join", () => {
  test("200: a join line is published and the read position starts at it", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const room = await roomOf(owner);
    const res = await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    expect(res.status).toBe(200);
    expect(res.body.room.memberCount).toBe(2);
    const line = api.published.at(-1)!;
    expect(line).toMatchObject({ roomId: room.id, type: "join", sender: guest.user });
    expect(await api.stores.rooms.getReadPosition(room.id, guest.user.id)).toBe(line.seq);
  });

  test("409 already_member and room_full", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const late = await api.signup();
    const room = await roomOf(owner, 2);
    await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    const again = await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("already_member");
    const full = await api.call("POST", `/api/rooms/${room.id}/join`, { token: late.token });
    expect(full.status).toBe(409);
    expect(full.body.error.code).toBe("room_full");
  });

  test("concurrent joins through the API never exceed the cap", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const room = await roomOf(owner, 5);
    const users = await Promise.all(Array.from({ length: 30 }, () => api.signup()));
    const results = await Promise.all(
      users.map((u) => api.call("POST", `/api/rooms/${room.id}/join`, { token: u.token })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(4);
    expect(results.filter((r) => r.status === 409 && r.body.error.code === "room_full")).toHaveLength(26);
    expect((await api.stores.rooms.getRoom(room.id))?.memberCount).toBe(5);
  });

  test("404, 400 and 401", async () => {
    api = await startTestApi();
    const user = await api.signup();
    expect((await api.call("POST", `/api/rooms/${missingRoom}/join`, { token: user.token })).status).toBe(
      404,
    );
    expect((await api.call("POST", "/api/rooms/123/join", { token: user.token })).status).toBe(400);
    expect((await api.call("POST", `/api/rooms/${missingRoom}/join`)).status).toBe(401);
  });

  test("503 when the bus refuses the join line; the membership is undone", async () => {
    let refuse = false;
    api = await startTestApi({
      wrapBus: (bus) => ({ ...bus, publish: (d) => (refuse ? refusingBus(bus).publish(d) : bus.publish(d)) }),
    });
    const owner = await api.signup();
    const guest = await api.signup();
    const room = await roomOf(owner);
    refuse = true;
    const res = await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    expect(res.status).toBe(503);
    expect(await api.stores.rooms.isMember(room.id, guest.user.id)).toBe(false);
    expect((await api.stores.rooms.getRoom(room.id))?.memberCount).toBe(1);
  });
});

describe("POST /api/rooms/:id/leave", () => {
  test("204: membership gone, member-removed control event and a leave line", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const room = await roomOf(owner);
    await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    const res = await api.call("POST", `/api/rooms/${room.id}/leave`, { token: guest.token });
    expect(res.status).toBe(204);
    expect(await api.stores.rooms.isMember(room.id, guest.user.id)).toBe(false);
    expect(api.controls).toContainEqual({ type: "member-removed", roomId: room.id, userId: guest.user.id });
    expect(api.published.at(-1)).toMatchObject({ roomId: room.id, type: "leave", sender: guest.user });
  });

  test("403 not_member and owner_cannot_leave; 404; 400; 401", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const stranger = await api.signup();
    const room = await roomOf(owner);
    const notMember = await api.call("POST", `/api/rooms/${room.id}/leave`, { token: stranger.token });
    expect(notMember.status).toBe(403);
    expect(notMember.body.error.code).toBe("not_member");
    const ownerLeaves = await api.call("POST", `/api/rooms/${room.id}/leave`, { token: owner.token });
    expect(ownerLeaves.status).toBe(403);
    expect(ownerLeaves.body.error.code).toBe("owner_cannot_leave");
    expect((await api.call("POST", `/api/rooms/${missingRoom}/leave`, { token: owner.token })).status).toBe(
      404,
    );
    expect((await api.call("POST", "/api/rooms/x/leave", { token: owner.token })).status).toBe(400);
    expect((await api.call("POST", `/api/rooms/${room.id}/leave`)).status).toBe(401);
  });
});

describe("DELETE /api/rooms/:id", () => {
  test("204 for the owner, with a room-deleted control event", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const room = await roomOf(owner);
    const res = await api.call("DELETE", `/api/rooms/${room.id}`, { token: owner.token });
    expect(res.status).toBe(204);
    expect(await api.stores.rooms.getRoom(room.id)).toBeNull();
    expect(api.controls).toContainEqual({ type: "room-deleted", roomId: room.id });
    expect((await api.call("DELETE", `/api/rooms/${room.id}`, { token: owner.token })).status).toBe(404);
  });

  test("403 not_owner even for a member; 400; 401", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const room = await roomOf(owner);
    await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    const res = await api.call("DELETE", `/api/rooms/${room.id}`, { token: guest.token });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("not_owner");
    expect(await api.stores.rooms.getRoom(room.id)).not.toBeNull();
    expect((await api.call("DELETE", "/api/rooms/x", { token: owner.token })).status).toBe(400);
    expect((await api.call("DELETE", `/api/rooms/${room.id}`)).status).toBe(401);
  });
});

describe("GET /api/rooms/:id/members", () => {
  test("200 for members, earliest first", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const room = await roomOf(owner);
    await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    const res = await api.call("GET", `/api/rooms/${room.id}/members`, { token: guest.token });
    expect(res.status).toBe(200);
    expect(res.body.members.map((m: { username: string }) => m.username)).toEqual([
      owner.user.username,
      guest.user.username,
    ]);
  });

  test("403 for non-members, 404, 400, 401", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const stranger = await api.signup();
    const room = await roomOf(owner);
    const res = await api.call("GET", `/api/rooms/${room.id}/members`, { token: stranger.token });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("not_member");
    expect((await api.call("GET", `/api/rooms/${missingRoom}/members`, { token: owner.token })).status).toBe(
      404,
    );
    expect((await api.call("GET", "/api/rooms/x/members", { token: owner.token })).status).toBe(400);
    expect((await api.call("GET", `/api/rooms/${room.id}/members`)).status).toBe(401);
  });
});
