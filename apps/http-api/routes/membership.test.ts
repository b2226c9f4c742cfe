import { afterEach, describe, expect, test } from "bun:test";
import {
  createRoomAs,
  MISSING_ROOM,
  refusingBus,
  startTestApi,
  type TestApi,
} from "../../../testkit/http-api.ts";

let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

describe("POST /api/rooms/:id/join", () => {
  test("200: a join line is published and the read position starts at it", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const room = await createRoomAs(api, owner);
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
    const room = await createRoomAs(api, owner, 2);
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
    const room = await createRoomAs(api, owner, 5);
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
    expect((await api.call("POST", `/api/rooms/${MISSING_ROOM}/join`, { token: user.token })).status).toBe(
      404,
    );
    expect((await api.call("POST", "/api/rooms/123/join", { token: user.token })).status).toBe(400);
    expect((await api.call("POST", `/api/rooms/${MISSING_ROOM}/join`)).status).toBe(401);
  });

  test("503 when the bus refuses the join line; the membership is undone", async () => {
    let refuse = false;
    api = await startTestApi({
      wrapBus: (bus) => ({ ...bus, publish: (d) => (refuse ? refusingBus(bus).publish(d) : bus.publish(d)) }),
    });
    const owner = await api.signup();
    const guest = await api.signup();
    const room = await createRoomAs(api, owner);
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
    const room = await createRoomAs(api, owner);
    await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    const res = await api.call("POST", `/api/rooms/${room.id}/leave`, { token: guest.token });
    expect(res.status).toBe(204);
    expect(await api.stores.rooms.isMember(room.id, guest.user.id)).toBe(false);
    expect(api.controls).toContainEqual({
      type: "member-removed",
      roomId: room.id,
      userId: guest.user.id,
      reason: "left",
    });
    expect(api.published.at(-1)).toMatchObject({ roomId: room.id, type: "leave", sender: guest.user });
  });

  test("the owner leaving hands the room to the longest-standing member, and the leave line says so", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const first = await api.signup();
    const second = await api.signup();
    const room = await createRoomAs(api, owner);
    for (const u of [first, second]) await api.call("POST", `/api/rooms/${room.id}/join`, { token: u.token });
    const res = await api.call("POST", `/api/rooms/${room.id}/leave`, { token: owner.token });
    expect(res.status).toBe(204);
    const after = await api.call("GET", `/api/rooms/${room.id}`, { token: first.token });
    expect(after.body.room.ownerId).toBe(first.user.id);
    expect(after.body.room.memberCount).toBe(2);
    expect(api.controls).toContainEqual({
      type: "member-removed",
      roomId: room.id,
      userId: owner.user.id,
      reason: "left",
    });
    expect(api.published.at(-1)).toMatchObject({
      type: "leave",
      sender: owner.user,
      text: `${owner.user.username} left; ${first.user.username} is the owner now`,
    });
    // The new owner has the owner's rights.
    expect((await api.call("DELETE", `/api/rooms/${room.id}`, { token: first.token })).status).toBe(204);
  });

  test("the last member leaving deletes the room, with a room-deleted control event", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const room = await createRoomAs(api, owner);
    const before = api.published.length;
    const res = await api.call("POST", `/api/rooms/${room.id}/leave`, { token: owner.token });
    expect(res.status).toBe(204);
    expect(await api.stores.rooms.getRoom(room.id)).toBeNull();
    expect(api.controls).toContainEqual({ type: "room-deleted", roomId: room.id });
    expect(api.published.length).toBe(before);
    expect((await api.call("POST", `/api/rooms/${room.id}/leave`, { token: owner.token })).status).toBe(404);
  });

  test("403 not_member; 404; 400; 401", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const stranger = await api.signup();
    const room = await createRoomAs(api, owner);
    const notMember = await api.call("POST", `/api/rooms/${room.id}/leave`, { token: stranger.token });
    expect(notMember.status).toBe(403);
    expect(notMember.body.error.code).toBe("not_member");
    expect((await api.call("POST", `/api/rooms/${MISSING_ROOM}/leave`, { token: owner.token })).status).toBe(
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
    const room = await createRoomAs(api, owner);
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
    const room = await createRoomAs(api, owner);
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
    const room = await createRoomAs(api, owner);
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
    const room = await createRoomAs(api, owner);
    const res = await api.call("GET", `/api/rooms/${room.id}/members`, { token: stranger.token });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("not_member");
    expect((await api.call("GET", `/api/rooms/${MISSING_ROOM}/members`, { token: owner.token })).status).toBe(
      404,
    );
    expect((await api.call("GET", "/api/rooms/x/members", { token: owner.token })).status).toBe(400);
    expect((await api.call("GET", `/api/rooms/${room.id}/members`)).status).toBe(401);
  });
});
