import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { presenceDestination } from "../../lib/chat/destinations.ts";
import { silentLogger } from "../../lib/log/index.ts";
import { MemoryPresence } from "../../lib/presence/memory.ts";
import { RedisPresenceReporter, RedisPresenceView } from "../../lib/presence/redis.ts";
import type { PresenceReporter, PresenceView } from "../../lib/presence/types.ts";
import type { Room, User } from "../../lib/store/types.ts";
import { eventually } from "../../testkit/eventually.ts";
import { connect, type PresenceHarness, startPresenceHarness } from "../../testkit/presence-harness.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";

interface Backend {
  view: PresenceView;
  /** A separate messaging node reporting into the same rosters. */
  reporter(): Promise<PresenceReporter>;
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: message bodies are checked field by field below
type Body = any;

export function presenceNodeSuite(open: () => Promise<Backend>): void {
  let backend: Backend;
  let h: PresenceHarness;
  let alice: { user: User; token: string };
  let bob: { user: User; token: string };
  let carol: { user: User; token: string };
  let room: Room;

  beforeAll(async () => {
    backend = await open();
    h = await startPresenceHarness(backend.view);
    alice = await h.user("alice");
    bob = await h.user("bob");
    carol = await h.user("carol");
    room = await h.stores.rooms.createRoom({ name: "presence", ownerId: alice.user.id, maxMembers: 10 });
    await h.stores.rooms.join(room.id, bob.user.id, 0);
  });
  afterAll(async () => {
    await h?.stop();
    await backend?.close();
  });

  test("a member gets a snapshot with every member, then diffs: join, second tab, leave, disconnect", async () => {
    const node1 = await backend.reporter();
    const node2 = await backend.reporter();
    const { client } = await connect(h.url, alice.token);
    const bodies: Body[] = [];
    client.subscribe(presenceDestination(room.id), (m) => bodies.push(JSON.parse(m.body)));
    await eventually(() => bodies.length === 1, "the snapshot");
    const snap = bodies[0];
    expect(snap.type).toBe("snapshot");
    expect(snap.roomId).toBe(room.id);
    expect(snap.online).toEqual([]);
    const members = [...snap.members].sort((a: Body, b: Body) => a.username.localeCompare(b.username));
    expect(members).toEqual([
      { id: alice.user.id, username: alice.user.username, online: false },
      { id: bob.user.id, username: bob.user.username, online: false },
    ]);
    const bobRef = { id: bob.user.id, username: bob.user.username };
    const aliceRef = { id: alice.user.id, username: alice.user.username };

    node1.add(room.id, bobRef, "bob-tab1");
    await eventually(() => bodies.length === 2, "bob joins");
    expect(bodies[1]).toEqual({
      type: "diff",
      roomId: room.id,
      version: snap.version + 1,
      joined: [bobRef],
      left: [],
    });

    // Second tab on another node; alice's join after it on the same node shows it has been applied.
    node2.add(room.id, bobRef, "bob-tab2");
    node2.add(room.id, aliceRef, "alice-tab");
    await eventually(() => bodies.length === 3, "alice joins");
    expect(bodies[2]).toMatchObject({
      type: "diff",
      version: snap.version + 2,
      joined: [aliceRef],
      left: [],
    });
    node1.remove(room.id, bob.user.id, "bob-tab1");
    node1.add(room.id, aliceRef, "alice-tab2");
    node1.remove(room.id, alice.user.id, "alice-tab2");
    node1.add(room.id, { id: "u-marker", username: "marker" }, "marker");
    await eventually(() => bodies.length === 4, "a marker joins; bob's second tab keeps him online");
    expect(bodies[3]).toMatchObject({ type: "diff", version: snap.version + 3, left: [] });
    expect(bodies[3].joined.map((u: Body) => u.id)).toEqual(["u-marker"]);

    node2.remove(room.id, bob.user.id, "bob-tab2");
    await eventually(() => bodies.length === 5, "bob's last tab closed");
    expect(bodies[4]).toMatchObject({ type: "diff", version: snap.version + 4, joined: [], left: [bobRef] });

    await node2.stop(); // its connections are gone: alice leaves
    await eventually(() => bodies.length === 6, "alice's node disconnected");
    expect(bodies[5]).toMatchObject({
      type: "diff",
      version: snap.version + 5,
      joined: [],
      left: [aliceRef],
    });
    await node1.stop();
    await client.deactivate();
  });

  test("a non-member's SUBSCRIBE gets an ERROR", async () => {
    const { client, errors } = await connect(h.url, carol.token);
    client.subscribe(presenceDestination(room.id), () => {});
    await eventually(() => errors.length === 1, "the ERROR frame");
    expect(errors[0]).toBe("forbidden");
    await client.deactivate();
  });

  test("a member removed from the room loses the roster subscription without reconnecting", async () => {
    const dave = await h.user("dave");
    await h.stores.rooms.join(room.id, dave.user.id, 0);
    const { client } = await connect(h.url, dave.token);
    const notices: string[] = [];
    client.subscribe("/user/queue/errors", (m) => notices.push(JSON.parse(m.body).code));
    const bodies: unknown[] = [];
    client.subscribe(presenceDestination(room.id), (m) => bodies.push(JSON.parse(m.body)));
    // At least: a diff from the earlier tests' reporters may follow the snapshot at once.
    await eventually(() => bodies.length >= 1, "the snapshot");
    expect((bodies[0] as Body).type).toBe("snapshot");
    await h.stores.rooms.leave(room.id, dave.user.id);
    await h.bus.publishControl({
      type: "member-removed",
      roomId: room.id,
      userId: dave.user.id,
      reason: "removed",
    });
    await eventually(() => notices.length >= 1, "the revocation notice");
    expect(notices).toHaveLength(1);
    expect(notices[0]).toBe("subscription_revoked");
    expect(client.connected).toBe(true);
    await client.deactivate();
  });

  test("SEND to a presence destination gets an ERROR", async () => {
    const { client, errors } = await connect(h.url, bob.token);
    client.publish({ destination: presenceDestination(room.id), body: "{}" });
    await eventually(() => errors.length === 1, "the ERROR frame");
    expect(errors[0]).toBe("read-only destination");
    await client.deactivate();
  });

  test("/readyz reports the presence store's health", async () => {
    const res = await fetch(`http://127.0.0.1:${h.server.port}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ready", presence: true });
  });
}

describe("presence-node on the in-memory adapter", () => {
  presenceNodeSuite(async () => {
    const memory = new MemoryPresence(silentLogger, { coalesceMs: 30 });
    return { view: memory, reporter: async () => memory.reporter(), close: () => memory.close() };
  });
});

describe.skipIf(skipWithout("redis"))("presence-node on Redis", () => {
  presenceNodeSuite(async () => {
    const url = serviceUrl("redis")!;
    const prefix = `test-presence-node:${crypto.randomUUID()}:`;
    const tuning = { coalesceMs: 30, nodeTtlMs: 1_500, sweepEveryMs: 300 };
    const view = new RedisPresenceView({ url, prefix, log: silentLogger, ...tuning });
    const reporters: RedisPresenceReporter[] = [];
    return {
      view,
      async reporter() {
        const r = new RedisPresenceReporter({
          url,
          prefix,
          nodeId: crypto.randomUUID(),
          log: silentLogger,
          ...tuning,
        });
        await r.start();
        reporters.push(r);
        return r;
      },
      async close() {
        for (const r of reporters) await r.stop();
      },
    };
  });
});
