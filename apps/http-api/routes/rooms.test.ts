import { afterEach, describe, expect, test } from "bun:test";
import { newDraft } from "../../../lib/chat/message.ts";
import { UNREAD_COUNT_CAP } from "../../../lib/chat/rooms.ts";
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
    const room = await createRoomAs(api, owner);
    for (const text of ["one", "two"]) await api.bus.publish(newDraft(room.id, "message", owner.user, text));
    expect((await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token })).status).toBe(200);
    await api.bus.publish(newDraft(room.id, "message", owner.user, "three"));
    await api.bus.publish(newDraft(room.id, "message", guest.user, "hi")); // their own: not unread
    await api.syncBacklog();

    const mine = await api.call("GET", "/api/rooms", { token: guest.token });
    expect(mine.status).toBe(200);
    expect(mine.body.rooms).toHaveLength(1);
    expect(mine.body.rooms[0]).toMatchObject({
      id: room.id,
      memberCount: 2,
      unreadCount: 1,
      unreadCountCapped: false,
    });
    const ownerView = await api.call("GET", "/api/rooms", { token: owner.token });
    // The owner has read up to the creation line; after it, their own messages and the guest's join
    // line are not unread: only the guest's "hi" is.
    expect(ownerView.body.rooms[0].unreadCount).toBe(1);
  });

  test("unread counts stop at the cap and say so; every room of the caller is counted", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const busy = await createRoomAs(api, owner, 5, "busy");
    const quiet = await createRoomAs(api, owner, 5, "quiet");
    for (const room of [busy, quiet]) {
      expect((await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token })).status).toBe(200);
    }
    for (let i = 0; i <= UNREAD_COUNT_CAP; i++)
      await api.bus.publish(newDraft(busy.id, "message", owner.user, `m${i}`));
    await api.bus.publish(newDraft(quiet.id, "message", owner.user, "hello"));
    await api.syncBacklog();

    const mine = await api.call("GET", "/api/rooms", { token: guest.token });
    const byName = new Map(mine.body.rooms.map((r: { name: string }) => [r.name, r]));
    expect(byName.get("busy")).toMatchObject({ unreadCount: UNREAD_COUNT_CAP, unreadCountCapped: true });
    expect(byName.get("quiet")).toMatchObject({ unreadCount: 1, unreadCountCapped: false });
  });

  test("discover lists rooms the caller is not in, paged", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const other = await api.signup();
    const a = await createRoomAs(api, owner, 5, "a");
    const b = await createRoomAs(api, owner, 5, "b");
    const own = await createRoomAs(api, other, 5, "mine");
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
    const room = await createRoomAs(api, owner);
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
    const missing = await api.call("GET", `/api/rooms/${MISSING_ROOM}`, { token: user.token });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("room_not_found");
    expect((await api.call("GET", `/api/rooms/${MISSING_ROOM}`)).status).toBe(401);
  });
});

describe("rate limits on room actions", () => {
  test("room creation: a burst per user, then 429 with Retry-After; another user is not affected", async () => {
    api = await startTestApi({ env: { ROOM_CREATE_BURST: "2", ROOM_CREATE_REFILL_SEC: "60" } });
    const [a, b] = [await api.signup(), await api.signup()];
    const create = (token: string) =>
      api.call("POST", "/api/rooms", { token, body: { name: "r", maxMembers: 5 } });
    expect((await create(a.token)).status).toBe(201);
    expect((await create(a.token)).status).toBe(201);
    const refused = await create(a.token);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await create(b.token)).status).toBe(201);
  });

  test("a join/leave loop is cut off after the burst, so it cannot flood a room with join lines", async () => {
    api = await startTestApi({ env: { ROOM_ACTION_BURST: "4", ROOM_ACTION_REFILL_SEC: "60" } });
    const owner = await api.signup();
    const roamer = await api.signup();
    const roomId = (await createRoomAs(api, owner)).id;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await api.call("POST", `/api/rooms/${roomId}/join`, { token: roamer.token })).status);
      statuses.push((await api.call("POST", `/api/rooms/${roomId}/leave`, { token: roamer.token })).status);
    }
    expect(statuses).toEqual([200, 204, 200, 204, 429, 429, 429, 429]);
    expect(api.published.filter((m) => m.roomId === roomId && m.type === "join")).toHaveLength(3);
  });

  test("every state-changing request from one address shares a bucket, whoever's token it carries", async () => {
    api = await startTestApi({ env: { ACTION_IP_BURST: "2", ACTION_IP_REFILL_SEC: "60" } });
    const [a, b, c] = [await api.signup(), await api.signup(), await api.signup()];
    const create = (token: string, ip: string) =>
      api.call("POST", "/api/rooms", { token, ip, body: { name: "r", maxMembers: 5 } });
    expect((await create(a.token, "10.0.0.1")).status).toBe(201);
    expect((await create(b.token, "10.0.0.1")).status).toBe(201);
    expect((await create(c.token, "10.0.0.1")).status).toBe(429);
    expect((await create(c.token, "10.0.0.2")).status).toBe(201);
  });
});
