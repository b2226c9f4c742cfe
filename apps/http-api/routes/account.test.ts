import { afterEach, describe, expect, test } from "bun:test";
import { TEST_PASSWORD } from "../../../testkit/credentials.ts";
import { createRoomAs, startTestApi, type TestApi } from "../../../testkit/http-api.ts";

/** Account deletion, users that are gone, and join/leave lines that do not multiply. */
let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

describe("DELETE /api/me", () => {
  test("wrong password 403; then the account leaves every room, hands ownership on, and is gone", async () => {
    api = await startTestApi();
    const doomed = await api.signup();
    const heir = await api.signup();
    const room = await createRoomAs(api, doomed);
    await api.call("POST", `/api/rooms/${room.id}/join`, { token: heir.token });
    const alone = await createRoomAs(api, doomed, 5, "alone");
    await api.bus.publish({
      id: Bun.randomUUIDv7(),
      roomId: room.id,
      type: "message",
      sender: doomed.user,
      text: "remember me",
      sentAt: new Date().toISOString(),
    });
    const wrong = await api.call("DELETE", "/api/me", {
      token: doomed.token,
      body: { password: "not it at all" },
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([403, "wrong_password"]);
    const res = await api.call("DELETE", "/api/me", {
      token: doomed.token,
      body: { password: TEST_PASSWORD },
    });
    expect(res.status).toBe(204);
    expect(api.controls).toContainEqual({
      type: "sessions-revoked",
      userId: doomed.user.id,
      reason: "account-deleted",
    });
    expect(api.controls).toContainEqual({ type: "room-deleted", roomId: alone.id });
    expect(api.controls).toContainEqual({
      type: "member-removed",
      roomId: room.id,
      userId: doomed.user.id,
      reason: "account-deleted",
    });
    expect(api.published.at(-1)).toMatchObject({
      type: "leave",
      accountDeleted: true,
      sender: { id: doomed.user.id, username: "deleted user" },
      text: `deleted user left; ${heir.user.username} is the owner now`,
    });
    const after = await api.call("GET", `/api/rooms/${room.id}`, { token: heir.token });
    expect(after.body.room).toMatchObject({ ownerId: heir.user.id, memberCount: 1 });
    // History keeps the message, attributed to "deleted user".
    await api.syncBacklog();
    const history = await api.call("GET", `/api/rooms/${room.id}/messages`, { token: heir.token });
    const said = history.body.messages.find((m: { text: string }) => m.text === "remember me");
    expect(said.sender).toEqual({ id: doomed.user.id, username: "deleted user" });
    // Gone: every route is a 4xx, login fails, the username stays taken.
    for (const [method, path, body] of [
      ["GET", "/api/rooms", undefined],
      ["POST", "/api/rooms", { name: "x", maxMembers: 3 }],
      ["POST", `/api/rooms/${room.id}/join`, undefined],
      ["POST", "/api/dms", { userId: heir.user.id }],
      ["GET", "/api/me", undefined],
      ["GET", "/api/me/settings", undefined],
      ["DELETE", "/api/me", { password: TEST_PASSWORD }],
    ] as const) {
      const r = await api.call(method, path, { token: doomed.token, body });
      expect([path, r.status]).toEqual([path, 401]);
    }
    const login = await api.call("POST", "/api/auth/login", {
      body: { username: doomed.user.username, password: TEST_PASSWORD },
    });
    expect(login.status).toBe(401);
    const again = await api.call("POST", "/api/auth/signup", {
      body: { username: doomed.user.username, password: TEST_PASSWORD },
    });
    expect([again.status, again.body.error.code]).toEqual([409, "username_taken"]);
    const refreshed = await api.call("POST", "/api/auth/refresh", {
      body: { refreshToken: doomed.refreshToken },
    });
    expect(refreshed.status).toBe(401);
  });

  test("a token whose user row is missing gets 401 user_gone, never a 500", async () => {
    api = await startTestApi();
    const owner = await api.signup();
    const room = await createRoomAs(api, owner);
    const ghost = await api.tokens.issueAccessToken({ id: Bun.randomUUIDv7(), username: "ghost" });
    for (const [method, path, body] of [
      ["POST", "/api/rooms", { name: "x", maxMembers: 3 }],
      ["POST", `/api/rooms/${room.id}/join`, undefined],
      ["POST", "/api/dms", { userId: owner.user.id }],
      ["GET", "/api/rooms", undefined],
    ] as const) {
      const r = await api.call(method, path, { token: ghost, body });
      expect([path, r.status, r.body.error.code]).toEqual([path, 401, "user_gone"]);
    }
  });
});

describe("join and leave lines", () => {
  test("joining and leaving in a loop puts at most the burst of lines into the room, then one a window", async () => {
    api = await startTestApi({
      env: { MEMBERSHIP_LINE_BURST: "3", MEMBERSHIP_LINE_REFILL_SEC: "3600", ROOM_ACTION_BURST: "100" },
    });
    const owner = await api.signup();
    const flapper = await api.signup();
    const room = await createRoomAs(api, owner);
    const before = api.published.length;
    for (let i = 0; i < 10; i++) {
      expect((await api.call("POST", `/api/rooms/${room.id}/join`, { token: flapper.token })).status).toBe(
        200,
      );
      expect((await api.call("POST", `/api/rooms/${room.id}/leave`, { token: flapper.token })).status).toBe(
        204,
      );
    }
    const lines = api.published.slice(before).filter((m) => m.sender.id === flapper.user.id);
    expect(lines.map((m) => m.type)).toEqual(["join", "leave", "join"]);
    // Every leave still revoked their subscriptions; every join still told their other devices.
    expect(api.controls.filter((e) => (e as { reason?: string }).reason === "left")).toHaveLength(10);
    expect(api.controls.filter((e) => (e as { type: string }).type === "member-joined")).toHaveLength(11);
    // Another user's lines are counted apart.
    const other = await api.signup();
    await api.call("POST", `/api/rooms/${room.id}/join`, { token: other.token });
    expect(api.published.at(-1)).toMatchObject({ type: "join", sender: other.user });
  });
});
