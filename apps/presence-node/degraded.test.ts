import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { presenceDestination } from "../../lib/chat/destinations.ts";
import { silentLogger } from "../../lib/log/index.ts";
import { RedisPresenceReporter, RedisPresenceView } from "../../lib/presence/redis.ts";
import type { Room, User } from "../../lib/store/types.ts";
import { eventually } from "../../testkit/eventually.ts";
import { OwnRedis } from "../../testkit/fixtures/own-redis.ts";
import { connect, type PresenceHarness, startPresenceHarness } from "../../testkit/presence-harness.ts";
import { skipWithout } from "../../testkit/services.ts";

/** Redis stopped under a live presence subscription, on a redis-server of this test's own. */
describe.skipIf(skipWithout("redis") || !OwnRedis.binary)("presence-node while Redis is down", () => {
  let redis: OwnRedis;
  let reporter: RedisPresenceReporter;
  let h: PresenceHarness;
  let alice: { user: User; token: string };
  let room: Room;

  beforeAll(async () => {
    redis = await OwnRedis.create();
    await redis.start();
    const tuning = { coalesceMs: 30, nodeTtlMs: 1_500, sweepEveryMs: 300 };
    reporter = new RedisPresenceReporter({ url: redis.url, nodeId: "chat-1", log: silentLogger, ...tuning });
    await reporter.start();
    const view = new RedisPresenceView({
      url: redis.url,
      log: silentLogger,
      ...tuning,
      healthEveryMs: 200,
      timeoutMs: 500,
    });
    h = await startPresenceHarness(view);
    alice = await h.user("alice");
    room = await h.stores.rooms.createRoom({ name: "outage", ownerId: alice.user.id, maxMembers: 10 });
  });
  afterAll(async () => {
    await h?.stop();
    await reporter?.stop();
    await redis?.stop();
  });

  test("watchers get degraded and /readyz fails; when Redis is back, a fresh snapshot with members", async () => {
    const { client } = await connect(h.url, alice.token);
    // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field
    const bodies: any[] = [];
    client.subscribe(presenceDestination(room.id), (m) => bodies.push(JSON.parse(m.body)));
    await eventually(() => bodies.length === 1, "the snapshot");
    const aliceRef = { id: alice.user.id, username: alice.user.username };
    reporter.add(room.id, aliceRef, "tab");
    await eventually(() => bodies.length === 2, "alice online");

    await redis.stop();
    await eventually(() => bodies.length === 3, "the degraded notice");
    expect(bodies[2]).toEqual({ type: "degraded", roomId: room.id });
    const readyz = await fetch(`http://127.0.0.1:${h.server.port}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toMatchObject({ status: "unavailable", presence: false });
    // A member added meanwhile appears in the next snapshot's member list.
    const bob = await h.user("bob");
    await h.stores.rooms.join(room.id, bob.user.id, 0);

    await redis.start();
    // Redis came back empty: the snapshot may precede the reporter's resync, then a diff brings alice.
    const onlineNow = () => {
      const at = bodies.findLastIndex((b) => b.type === "snapshot");
      if (at <= 2) return undefined;
      const online = new Set<string>(bodies[at].online.map((u: User) => u.id));
      for (const d of bodies.slice(at + 1)) {
        for (const u of d.joined ?? []) online.add(u.id);
        for (const u of d.left ?? []) online.delete(u.id);
      }
      return [...online];
    };
    await eventually(
      () => onlineNow()?.join() === alice.user.id,
      "alice online again after the new snapshot",
    );
    const snap = bodies.findLast((b) => b.type === "snapshot");
    expect(snap.members.map((m: User) => m.id).sort()).toEqual([alice.user.id, bob.user.id].sort());
    expect(snap.members).toContainEqual({ id: bob.user.id, username: bob.user.username, online: false });
    expect((await fetch(`http://127.0.0.1:${h.server.port}/readyz`)).status).toBe(200);
    await client.deactivate();
  }, 30_000);
});
