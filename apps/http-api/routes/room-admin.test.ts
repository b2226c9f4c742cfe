import { afterEach, describe, expect, test } from "bun:test";
import { createRoomAs, MISSING_ROOM, startTestApi, type TestApi } from "../../../testkit/http-api.ts";

/** The room-admin, invite, DM, people and settings routes as HTTP: statuses, bodies and limits. */
let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

async function roomWithGuest(maxMembers = 5) {
  const owner = await api.signup();
  const guest = await api.signup();
  const room = await createRoomAs(api, owner, maxMembers);
  await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
  return { owner, guest, room };
}

describe("PATCH /api/rooms/:id", () => {
  test("200 for the owner; 403 not_owner, 409 below_member_count, 400 for an empty or bad change", async () => {
    api = await startTestApi();
    const { owner, guest, room } = await roomWithGuest();
    const path = `/api/rooms/${room.id}`;
    const ok = await api.call("PATCH", path, {
      token: owner.token,
      body: { name: " Ops ", description: "on call" },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.room).toMatchObject({ name: "Ops", description: "on call" });
    expect(api.published.at(-1)).toMatchObject({
      type: "update",
      changes: { name: "Ops", description: "on call" },
    });
    const notOwner = await api.call("PATCH", path, { token: guest.token, body: { name: "x" } });
    expect([notOwner.status, notOwner.body.error.code]).toEqual([403, "not_owner"]);
    const below = await api.call("PATCH", path, { token: owner.token, body: { maxMembers: 1 } });
    expect(below.status).toBe(400); // under the minimum of 2
    const small = await api.call("PATCH", path, { token: owner.token, body: { maxMembers: 2 } });
    expect(small.status).toBe(200);
    const third = await api.signup();
    const full = await api.call("POST", `${path}/join`, { token: third.token });
    expect(full.body.error.code).toBe("room_full");
    expect((await api.call("PATCH", path, { token: owner.token, body: {} })).status).toBe(400);
    expect((await api.call("PATCH", path, { token: owner.token, body: { owner: "x" } })).status).toBe(400);
    expect(
      (await api.call("PATCH", `/api/rooms/${MISSING_ROOM}`, { token: owner.token, body: { name: "x" } }))
        .status,
    ).toBe(404);
  });

  test("409 below_member_count when the room has more members than the new cap", async () => {
    api = await startTestApi();
    const { owner, room } = await roomWithGuest();
    const third = await api.signup();
    await api.call("POST", `/api/rooms/${room.id}/join`, { token: third.token });
    const res = await api.call("PATCH", `/api/rooms/${room.id}`, {
      token: owner.token,
      body: { maxMembers: 2 },
    });
    expect([res.status, res.body.error.code]).toEqual([409, "below_member_count"]);
  });
});

describe("removal, bans and ownership", () => {
  test("remove 204 with a revoking control event; ban keeps them out; unban; bans list", async () => {
    api = await startTestApi();
    const { owner, guest, room } = await roomWithGuest();
    const member = `/api/rooms/${room.id}/members/${guest.user.id}`;
    expect((await api.call("DELETE", member, { token: guest.token })).status).toBe(403);
    expect((await api.call("DELETE", member, { token: owner.token })).status).toBe(204);
    expect(api.controls.at(-1)).toEqual({
      type: "member-removed",
      roomId: room.id,
      userId: guest.user.id,
      reason: "removed",
    });
    expect((await api.call("DELETE", member, { token: owner.token })).status).toBe(404);
    const ban = await api.call("POST", `/api/rooms/${room.id}/bans`, {
      token: owner.token,
      body: { userId: guest.user.id },
    });
    expect(ban.status).toBe(204);
    const refused = await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token });
    expect([refused.status, refused.body.error.code]).toEqual([403, "banned"]);
    const list = await api.call("GET", `/api/rooms/${room.id}/bans`, { token: owner.token });
    expect(list.body.bans.map((b: { id: string }) => b.id)).toEqual([guest.user.id]);
    expect((await api.call("GET", `/api/rooms/${room.id}/bans`, { token: guest.token })).status).toBe(403);
    expect(
      (await api.call("DELETE", `/api/rooms/${room.id}/bans/${guest.user.id}`, { token: owner.token }))
        .status,
    ).toBe(204);
    expect((await api.call("POST", `/api/rooms/${room.id}/join`, { token: guest.token })).status).toBe(200);
  });

  test("POST /owner hands the room over", async () => {
    api = await startTestApi();
    const { owner, guest, room } = await roomWithGuest();
    const res = await api.call("POST", `/api/rooms/${room.id}/owner`, {
      token: owner.token,
      body: { userId: guest.user.id },
    });
    expect(res.status).toBe(200);
    expect(res.body.room.ownerId).toBe(guest.user.id);
    expect((await api.call("DELETE", `/api/rooms/${room.id}`, { token: owner.token })).status).toBe(403);
    const bad = await api.call("POST", `/api/rooms/${room.id}/owner`, {
      token: guest.token,
      body: { userId: "nope" },
    });
    expect(bad.status).toBe(400);
  });
});

describe("invites", () => {
  test("a private room is 404 to others; an invite link gets them in; revoked links do not", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const guest = await api.signup();
    const created = await api.call("POST", "/api/rooms", {
      token: owner.token,
      body: { name: "hidden", maxMembers: 5, private: true },
    });
    const id = created.body.room.id;
    expect(created.body.room.private).toBe(true);
    expect((await api.call("GET", `/api/rooms/${id}`, { token: guest.token })).status).toBe(404);
    expect((await api.call("POST", `/api/rooms/${id}/join`, { token: guest.token })).status).toBe(404);
    const invite = await api.call("POST", `/api/rooms/${id}/invites`, {
      token: owner.token,
      body: { expiresInSec: 600 },
    });
    expect(invite.status).toBe(201);
    expect(invite.body.token).toStartWith(`${id}.`);
    const accepted = await api.call("POST", "/api/invites/accept", {
      token: guest.token,
      body: { token: invite.body.token },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.room.memberCount).toBe(2);
    expect(
      (await api.call("POST", "/api/invites/accept", { token: guest.token, body: { token: "x.1.2.3" } }))
        .status,
    ).toBe(400);
    expect((await api.call("DELETE", `/api/rooms/${id}/invites`, { token: owner.token })).status).toBe(204);
    const late = await api.signup();
    const revoked = await api.call("POST", "/api/invites/accept", {
      token: late.token,
      body: { token: invite.body.token },
    });
    expect([revoked.status, revoked.body.error.code]).toEqual([403, "invite_revoked"]);
  });

  test("invite links have their own per-user bucket: 429 with Retry-After", async () => {
    api = await startTestApi({ env: { INVITE_BURST: "1", INVITE_REFILL_SEC: "60" } });
    const owner = await api.signup();
    const room = await createRoomAs(api, owner);
    expect(
      (await api.call("POST", `/api/rooms/${room.id}/invites`, { token: owner.token, body: {} })).status,
    ).toBe(201);
    const limited = await api.call("POST", `/api/rooms/${room.id}/invites`, { token: owner.token, body: {} });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("DMs, people and settings", () => {
  test("POST /api/dms: 201 then 200 for the same pair; 400 with oneself; 404 for nobody", async () => {
    api = await startTestApi();
    const a = await api.signup();
    const b = await api.signup();
    const made = await api.call("POST", "/api/dms", { token: a.token, body: { userId: b.user.id } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ created: true, room: { kind: "dm", peer: b.user, unreadCount: 0 } });
    const again = await api.call("POST", "/api/dms", { token: b.token, body: { userId: a.user.id } });
    expect(again.status).toBe(200);
    expect(again.body.room.id).toBe(made.body.room.id);
    expect(
      (await api.call("POST", "/api/dms", { token: a.token, body: { userId: a.user.id } })).body.error.code,
    ).toBe("dm_self");
    expect(
      (await api.call("POST", "/api/dms", { token: a.token, body: { userId: MISSING_ROOM } })).status,
    ).toBe(404);
    const mine = await api.call("GET", "/api/rooms", { token: b.token });
    expect(mine.body.rooms[0]).toMatchObject({ kind: "dm", peer: a.user });
  });

  test("GET /api/users pages by prefix; 400 without one", async () => {
    api = await startTestApi();
    const stem = `pp${Math.random().toString(36).slice(2, 8)}`;
    for (const x of ["a", "b", "c"]) await api.signup(`${stem}${x}`);
    const me = await api.signup();
    const first = await api.call("GET", `/api/users?prefix=${stem}&limit=2`, { token: me.token });
    expect(first.status).toBe(200);
    expect(first.body.users.map((u: { username: string }) => u.username)).toEqual([`${stem}a`, `${stem}b`]);
    const rest = await api.call("GET", `/api/users?prefix=${stem}&limit=2&after=${first.body.next}`, {
      token: me.token,
    });
    expect(rest.body).toEqual({ users: [expect.objectContaining({ username: `${stem}c` })] });
    expect((await api.call("GET", "/api/users", { token: me.token })).status).toBe(400);
    expect((await api.call("GET", `/api/users?prefix=${stem}&limit=51`, { token: me.token })).status).toBe(
      400,
    );
  });

  test("GET and PATCH /api/me/settings", async () => {
    api = await startTestApi();
    const me = await api.signup();
    expect((await api.call("GET", "/api/me/settings", { token: me.token })).body).toEqual({
      readReceipts: true,
    });
    const off = await api.call("PATCH", "/api/me/settings", {
      token: me.token,
      body: { readReceipts: false },
    });
    expect(off.body).toEqual({ readReceipts: false });
    expect(
      (await api.call("PATCH", "/api/me/settings", { token: me.token, body: { other: 1 } })).status,
    ).toBe(400);
  });
});
