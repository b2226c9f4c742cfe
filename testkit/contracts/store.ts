import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  ConflictError,
  ForbiddenError,
  RoomNotFoundError,
  type Stores,
  type User,
} from "../../lib/store/types.ts";

/** A database for one contract run: its stores, a way to open a second independent client, cleanup. */
export interface StoreFixture {
  stores: Stores;
  /** Another Stores on the same database through its own connection(s), as a second process would. */
  openAnother(): Promise<Stores>;
  dispose(): Promise<void>;
}

const unique = () => Bun.randomUUIDv7().slice(-12).replace(/-/g, "");

/** The behaviour every Stores adapter must have. Each test uses fresh usernames, so reruns pass. */
export function runStoreContract(name: string, open: () => Promise<StoreFixture>): void {
  describe(`store contract: ${name}`, () => {
    let fx: StoreFixture;
    let s: Stores;
    const newUser = (prefix = "u") => s.users.createUser(`${prefix}${unique()}`, "hash");

    beforeAll(async () => {
      fx = await open();
      s = fx.stores;
    });
    afterAll(async () => {
      await fx?.dispose();
    });

    test("ping answers", async () => {
      await s.ping();
    });

    test("users are stored normalised and unique on that form", async () => {
      const raw = `  Alice${unique()} `;
      const user = await s.users.createUser(raw, "argon-hash");
      expect(user.username).toBe(raw.trim().toLowerCase());
      expect(await s.users.findById(user.id)).toEqual(user);
      const found = await s.users.findByUsername(raw.trim().toUpperCase());
      expect(found).toEqual({ ...user, passwordHash: "argon-hash" });
      const dup = await s.users.createUser(raw.trim().toUpperCase(), "other").catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(ConflictError);
      expect((dup as ConflictError).code).toBe("username_taken");
      expect(await s.users.findByUsername("nobody-here")).toBeNull();
      expect(await s.users.findById(Bun.randomUUIDv7())).toBeNull();
    });

    test("look-alikes of an existing name are refused (Cyrillic а and о, an accent), also when racing", async () => {
      const tail = unique();
      await s.users.createUser(`alice${tail}`, "h");
      await s.users.createUser(`bob${tail}`, "h");
      for (const lookalike of [`\u0430lice${tail}`, `b\u043eb${tail}`, `alic\u00e9${tail}`, `ALICE${tail}`]) {
        const err = await s.users.createUser(lookalike, "h").catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConflictError);
        const exact = lookalike.toLowerCase() === `alice${tail}`;
        expect((err as ConflictError).code).toBe(exact ? "username_taken" : "username_confusable");
      }
      // Two sign-ups of look-alikes at once: the unique index lets exactly one in.
      const other = await fx.openAnother();
      try {
        const results = await Promise.allSettled([
          s.users.createUser(`carol${tail}`, "h"),
          other.users.createUser(`c\u0430rol${tail}`, "h"),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    test("a refresh token is used once; the record shows the first use (when, by whom); families revoke together", async () => {
      const user = await newUser();
      const familyId = Bun.randomUUIDv7();
      const expiresAt = new Date(Date.now() + 60_000).toISOString();
      const a = `a${unique()}`;
      const b = `b${unique()}`;
      const other = `o${unique()}`;
      await s.users.saveRefreshToken({ tokenHash: a, familyId, userId: user.id, expiresAt });
      await s.users.saveRefreshToken({ tokenHash: b, familyId, userId: user.id, expiresAt });
      await s.users.saveRefreshToken({
        tokenHash: other,
        familyId: Bun.randomUUIDv7(),
        userId: user.id,
        expiresAt,
      });

      const firstUse = { at: "2031-02-03T04:05:06.789Z", by: "client-one" };
      const first = await s.users.useRefreshToken(a, firstUse);
      expect(first).toMatchObject({
        tokenHash: a,
        familyId,
        userId: user.id,
        usedAt: null,
        usedBy: null,
        revokedAt: null,
      });
      expect(new Date(first!.expiresAt).getTime()).toBe(new Date(expiresAt).getTime());
      // A second use reports the first one and does not overwrite it.
      const second = await s.users.useRefreshToken(a, { at: "2031-02-03T04:05:09.000Z", by: "client-two" });
      expect(new Date(second!.usedAt!).toISOString()).toBe(firstUse.at);
      expect(second?.usedBy).toBe("client-one");
      const third = await s.users.useRefreshToken(a, { at: "2031-02-03T04:05:10.000Z", by: null });
      expect(third?.usedBy).toBe("client-one");
      expect(await s.users.useRefreshToken("unknown", firstUse)).toBeNull();

      await s.users.revokeRefreshFamily(familyId);
      expect((await s.users.useRefreshToken(b, firstUse))?.revokedAt).not.toBeNull();
      expect((await s.users.useRefreshToken(other, firstUse))?.revokedAt).toBeNull();
    });

    test("two clients using one refresh token at once: exactly one sees it unused", async () => {
      const user = await newUser();
      const hash = `r${unique()}`;
      const expiresAt = new Date(Date.now() + 60_000).toISOString();
      await s.users.saveRefreshToken({
        tokenHash: hash,
        familyId: Bun.randomUUIDv7(),
        userId: user.id,
        expiresAt,
      });
      const another = await fx.openAnother();
      try {
        const at = new Date().toISOString();
        const spend = (stores: Stores, by: string) => stores.users.useRefreshToken(hash, { at, by });
        const uses = await Promise.all([spend(s, "tab-1"), spend(another, "tab-2")]);
        expect(uses.filter((u) => u?.usedAt === null)).toHaveLength(1);
        const winner = uses[0]?.usedAt === null ? "tab-1" : "tab-2";
        expect(uses.find((u) => u?.usedAt !== null)?.usedBy).toBe(winner);
      } finally {
        await another.close();
      }
    });

    test("a session is active while its user exists and its refresh-token family is not revoked", async () => {
      const user = await newUser();
      const familyId = Bun.randomUUIDv7();
      const expiresAt = new Date(Date.now() + 60_000).toISOString();
      await s.users.saveRefreshToken({ tokenHash: `t${unique()}`, familyId, userId: user.id, expiresAt });
      expect(await s.users.sessionActive(user.id)).toBe(true);
      expect(await s.users.sessionActive(user.id, familyId)).toBe(true);
      expect(await s.users.sessionActive(user.id, Bun.randomUUIDv7())).toBe(true);
      expect(await s.users.sessionActive(Bun.randomUUIDv7())).toBe(false);
      await s.users.revokeRefreshFamily(familyId);
      expect(await s.users.sessionActive(user.id, familyId)).toBe(false);
      expect(await s.users.sessionActive(user.id)).toBe(true);
      // A deleted account keeps its row (its username stays reserved) but opens no session.
      expect(await s.users.deleteUser(user.id)).toBe(true);
      expect(await s.users.sessionActive(user.id)).toBe(false);
    });

    test("the creator of a room is its first member", async () => {
      const owner = await newUser();
      const room = await s.rooms.createRoom({ name: "general", ownerId: owner.id, maxMembers: 3 });
      expect(room).toMatchObject({
        name: "general",
        description: "",
        kind: "group",
        private: false,
        ownerId: owner.id,
        maxMembers: 3,
        memberCount: 1,
      });
      expect(Number.isNaN(Date.parse(room.createdAt))).toBe(false);
      expect(await s.rooms.getRoom(room.id)).toEqual(room);
      expect(await s.rooms.isMember(room.id, owner.id)).toBe(true);
      expect(await s.rooms.getReadPosition(room.id, owner.id)).toBe(0);
      expect((await s.rooms.members(room.id)).map((m) => m.username)).toEqual([owner.username]);
      expect(await s.rooms.getRoom(Bun.randomUUIDv7())).toBeNull();
    });

    test("listForMember and listDiscoverable split rooms by membership, newest first, paged", async () => {
      const owner = await newUser();
      const viewer = await newUser();
      const r1 = await s.rooms.createRoom({ name: "one", ownerId: owner.id, maxMembers: 5 });
      const r2 = await s.rooms.createRoom({ name: "two", ownerId: owner.id, maxMembers: 5 });
      const r3 = await s.rooms.createRoom({ name: "three", ownerId: owner.id, maxMembers: 5 });
      await s.rooms.join(r2.id, viewer.id, 0);

      expect((await s.rooms.listForMember(owner.id)).map((r) => r.id)).toEqual([r3.id, r2.id, r1.id]);
      expect((await s.rooms.listForMember(viewer.id)).map((r) => r.id)).toEqual([r2.id]);
      const discover = (await s.rooms.listDiscoverable(viewer.id, { limit: 1000, offset: 0 })).map(
        (r) => r.id,
      );
      expect(discover).toContain(r1.id);
      expect(discover).toContain(r3.id);
      expect(discover).not.toContain(r2.id);
      expect(discover.indexOf(r3.id)).toBeLessThan(discover.indexOf(r1.id));
      const page = await s.rooms.listDiscoverable(viewer.id, { limit: 1, offset: 1 });
      expect(page).toHaveLength(1);
      expect(page[0]!.id).toBe(discover[1]!);
    });

    test("join admits up to the cap, then room_full; twice is already_member; unknown room", async () => {
      const owner = await newUser();
      const [a, b] = [await newUser(), await newUser()];
      const room = await s.rooms.createRoom({ name: "pair", ownerId: owner.id, maxMembers: 2 });
      const joined = await s.rooms.join(room.id, a.id, 41);
      expect(joined.memberCount).toBe(2);
      expect(await s.rooms.getReadPosition(room.id, a.id)).toBe(41);
      const codeOf = (p: Promise<unknown>) =>
        p.then(
          () => "ok",
          (e: ConflictError) => e.code,
        );
      expect(await codeOf(s.rooms.join(room.id, a.id, 0))).toBe("already_member");
      expect(await codeOf(s.rooms.join(room.id, b.id, 0))).toBe("room_full");
      await expect(s.rooms.join(Bun.randomUUIDv7(), b.id, 0)).rejects.toBeInstanceOf(RoomNotFoundError);
      expect((await s.rooms.getRoom(room.id))?.memberCount).toBe(2);
    });

    test("leave frees a place; leaving twice reports false", async () => {
      const owner = await newUser();
      const a = await newUser();
      const room = await s.rooms.createRoom({ name: "x", ownerId: owner.id, maxMembers: 2 });
      await s.rooms.join(room.id, a.id, 0);
      expect(await s.rooms.leave(room.id, a.id)).toEqual({
        left: true,
        newOwnerId: null,
        roomDeleted: false,
      });
      expect(await s.rooms.leave(room.id, a.id)).toEqual({ left: false });
      expect(await s.rooms.leave(Bun.randomUUIDv7(), a.id)).toEqual({ left: false });
      expect(await s.rooms.isMember(room.id, a.id)).toBe(false);
      expect(await s.rooms.getReadPosition(room.id, a.id)).toBeNull();
      expect((await s.rooms.getRoom(room.id))?.memberCount).toBe(1);
      expect((await s.rooms.join(room.id, a.id, 0)).memberCount).toBe(2);
    });

    test("an owner who leaves hands the room to the longest-standing member", async () => {
      const owner = await newUser();
      const first = await newUser();
      const second = await newUser();
      const room = await s.rooms.createRoom({ name: "heir", ownerId: owner.id, maxMembers: 5 });
      await s.rooms.join(room.id, first.id, 0);
      await s.rooms.join(room.id, second.id, 0);
      expect(await s.rooms.leave(room.id, owner.id)).toEqual({
        left: true,
        newOwnerId: first.id,
        roomDeleted: false,
      });
      const after = await s.rooms.getRoom(room.id);
      expect(after?.ownerId).toBe(first.id);
      expect(after?.memberCount).toBe(2);
      expect((await s.rooms.members(room.id)).map((m) => m.id)).toEqual([first.id, second.id]);
      // The new owner leaving passes it on again; a member leaving does not.
      await s.rooms.join(room.id, owner.id, 0);
      expect(await s.rooms.leave(room.id, second.id)).toMatchObject({ newOwnerId: null });
      expect(await s.rooms.leave(room.id, first.id)).toMatchObject({ newOwnerId: owner.id });
      expect((await s.rooms.getRoom(room.id))?.ownerId).toBe(owner.id);
    });

    test("concurrent leaves through two clients always leave the room owned by a member", async () => {
      const other = await fx.openAnother();
      try {
        for (let round = 0; round < 5; round++) {
          const owner = await newUser("own");
          const room = await s.rooms.createRoom({ name: "race", ownerId: owner.id, maxMembers: 10 });
          const members = [await newUser(), await newUser(), await newUser()];
          for (const m of members) await s.rooms.join(room.id, m.id, 0);
          const leavers = [owner, members[0]!, members[1]!];
          await Promise.all(leavers.map((u, i) => (i % 2 ? other : s).rooms.leave(room.id, u.id)));
          const after = await s.rooms.getRoom(room.id);
          expect(after?.ownerId).toBe(members[2]!.id);
          expect(after?.memberCount).toBe(1);
        }
      } finally {
        await other.close();
      }
    });

    test("the last member leaving deletes the room", async () => {
      const owner = await newUser();
      const room = await s.rooms.createRoom({ name: "alone", ownerId: owner.id, maxMembers: 5 });
      expect(await s.rooms.leave(room.id, owner.id)).toEqual({
        left: true,
        newOwnerId: null,
        roomDeleted: true,
      });
      expect(await s.rooms.getRoom(room.id)).toBeNull();
      expect(await s.rooms.listForMember(owner.id)).toEqual([]);
      await expect(s.rooms.join(room.id, owner.id, 0)).rejects.toBeInstanceOf(RoomNotFoundError);
    });

    test("deleteRoom removes the room and its memberships", async () => {
      const owner = await newUser();
      const room = await s.rooms.createRoom({ name: "gone", ownerId: owner.id, maxMembers: 2 });
      expect(await s.rooms.deleteRoom(room.id)).toBe(true);
      expect(await s.rooms.deleteRoom(room.id)).toBe(false);
      expect(await s.rooms.getRoom(room.id)).toBeNull();
      expect(await s.rooms.isMember(room.id, owner.id)).toBe(false);
      expect(await s.rooms.members(room.id)).toEqual([]);
      expect(await s.rooms.listForMember(owner.id)).toEqual([]);
    });

    test("read positions only move forward and are listed per room", async () => {
      const owner = await newUser();
      const r1 = await s.rooms.createRoom({ name: "a", ownerId: owner.id, maxMembers: 2 });
      const r2 = await s.rooms.createRoom({ name: "b", ownerId: owner.id, maxMembers: 2 });
      await s.rooms.advanceReadPosition(r1.id, owner.id, 10);
      await s.rooms.advanceReadPosition(r1.id, owner.id, 7);
      await s.rooms.advanceReadPosition(r2.id, owner.id, 3);
      expect(await s.rooms.getReadPosition(r1.id, owner.id)).toBe(10);
      expect(await s.rooms.readPositions(owner.id)).toEqual(
        new Map([
          [r1.id, 10],
          [r2.id, 3],
        ]),
      );
      const guest = await newUser();
      await s.rooms.join(r1.id, guest.id, 4);
      expect(await s.rooms.readPositionsIn(r1.id)).toEqual(
        new Map([
          [owner.id, 10],
          [guest.id, 4],
        ]),
      );
      expect(await s.rooms.readPositionsIn(Bun.randomUUIDv7())).toEqual(new Map());
      const stranger = await newUser();
      await s.rooms.advanceReadPosition(r1.id, stranger.id, 99);
      expect(await s.rooms.getReadPosition(r1.id, stranger.id)).toBeNull();
    });

    test("many read positions in one call: forward only, memberships only, past one statement's rows", async () => {
      const owner = await newUser();
      const stranger = await newUser();
      const r1 = await s.rooms.createRoom({ name: "a", ownerId: owner.id, maxMembers: 2 });
      const r2 = await s.rooms.createRoom({ name: "b", ownerId: owner.id, maxMembers: 2 });
      await s.rooms.advanceReadPosition(r1.id, owner.id, 10);
      await s.rooms.advanceReadPositions([
        { roomId: r1.id, userId: owner.id, seq: 7 },
        { roomId: r2.id, userId: owner.id, seq: 4 },
        { roomId: r1.id, userId: stranger.id, seq: 99 },
      ]);
      expect(await s.rooms.readPositions(owner.id)).toEqual(
        new Map([
          [r1.id, 10],
          [r2.id, 4],
        ]),
      );
      expect(await s.rooms.getReadPosition(r1.id, stranger.id)).toBeNull();
      // 600 members of one room: more rows than one SQLite statement takes (500).
      const big = await s.rooms.createRoom({ name: "big", ownerId: owner.id, maxMembers: 700 });
      const members: User[] = [];
      for (let i = 0; i < 600; i += 100) {
        members.push(...(await Promise.all(Array.from({ length: 100 }, () => newUser("rp")))));
      }
      for (let i = 0; i < members.length; i += 100)
        await Promise.all(members.slice(i, i + 100).map((m) => s.rooms.join(big.id, m.id, 0)));
      await s.rooms.advanceReadPositions(
        members.map((m, i) => ({ roomId: big.id, userId: m.id, seq: i + 1 })),
      );
      expect(await s.rooms.getReadPosition(big.id, members[0]!.id)).toBe(1);
      expect(await s.rooms.getReadPosition(big.id, members[599]!.id)).toBe(600);
      await s.rooms.advanceReadPositions([]);
    });

    test("1,000 concurrent joins through two independent clients into a room with 5 free places admit exactly 5", async () => {
      const other = await fx.openAnother();
      try {
        const owner = await newUser("own");
        // The owner takes one of six places: five are left for the joiners.
        const room = await s.rooms.createRoom({ name: "capped", ownerId: owner.id, maxMembers: 6 });
        const users: User[] = [];
        for (let i = 0; i < 1000; i += 100) {
          users.push(...(await Promise.all(Array.from({ length: 100 }, () => newUser("c")))));
        }
        const results = await Promise.allSettled(
          users.map((u, i) => (i % 2 === 0 ? s : other).rooms.join(room.id, u.id, 0)),
        );
        const admitted = results.filter((r) => r.status === "fulfilled").length;
        const refused = results.filter(
          (r) =>
            r.status === "rejected" && r.reason instanceof ConflictError && r.reason.code === "room_full",
        ).length;
        expect(admitted).toBe(5);
        expect(refused).toBe(995);
        expect((await s.rooms.getRoom(room.id))?.memberCount).toBe(6);
        expect(await s.rooms.members(room.id)).toHaveLength(6);
      } finally {
        await other.close();
      }
    });

    /** The code of a store refusal, or "ok". */
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: unknown) =>
          e instanceof ConflictError || e instanceof ForbiddenError
            ? e.code
            : e instanceof RoomNotFoundError
              ? "not_found"
              : Promise.reject(e),
      );

    test("private rooms: never discoverable, joined only with the current invite generation", async () => {
      const owner = await newUser();
      const guest = await newUser();
      const room = await s.rooms.createRoom({
        name: "secret",
        description: "shh",
        ownerId: owner.id,
        maxMembers: 5,
        private: true,
      });
      expect(room).toMatchObject({ private: true, description: "shh", kind: "group" });
      const found = await s.rooms.listDiscoverable(guest.id, { limit: 1000, offset: 0 });
      expect(found.map((r) => r.id)).not.toContain(room.id);
      expect(await outcome(s.rooms.join(room.id, guest.id, 0))).toBe("invite_required");
      const gen = await s.rooms.inviteGeneration(room.id);
      expect(gen).toBe(0);
      expect(await outcome(s.rooms.revokeInvites(room.id, guest.id))).toBe("not_owner");
      expect(await s.rooms.revokeInvites(room.id, owner.id)).toBe(1);
      expect(await outcome(s.rooms.join(room.id, guest.id, 0, { inviteGen: 0 }))).toBe("invite_required");
      expect(await outcome(s.rooms.join(room.id, guest.id, 7, { inviteGen: 1 }))).toBe("ok");
      expect(await s.rooms.getReadPosition(room.id, guest.id)).toBe(7);
      expect(await s.rooms.inviteGeneration(Bun.randomUUIDv7())).toBeNull();
    });

    test("the owner updates name, description, privacy and cap; never below the member count", async () => {
      const owner = await newUser();
      const a = await newUser();
      const room = await s.rooms.createRoom({ name: "old", ownerId: owner.id, maxMembers: 5 });
      await s.rooms.join(room.id, a.id, 0);
      expect(await outcome(s.rooms.updateRoom(room.id, a.id, { name: "mine" }))).toBe("not_owner");
      const renamed = await s.rooms.updateRoom(room.id, owner.id, { name: "new", description: "about" });
      expect(renamed).toMatchObject({ name: "new", description: "about", maxMembers: 5, private: false });
      expect(await outcome(s.rooms.updateRoom(room.id, owner.id, { maxMembers: 1 }))).toBe(
        "below_member_count",
      );
      expect(await s.rooms.updateRoom(room.id, owner.id, { maxMembers: 2, private: true })).toMatchObject({
        name: "new",
        maxMembers: 2,
        private: true,
      });
      expect(await outcome(s.rooms.updateRoom(Bun.randomUUIDv7(), owner.id, { name: "x" }))).toBe(
        "not_found",
      );
    });

    test("a cap change racing joins through two clients is exact: the cap is never passed", async () => {
      const other = await fx.openAnother();
      try {
        for (const delay of [0, 2, 5]) {
          const owner = await newUser("own");
          const room = await s.rooms.createRoom({ name: "cap", ownerId: owner.id, maxMembers: 20 });
          const joiners = await Promise.all(Array.from({ length: 40 }, () => newUser("j")));
          const joins = joiners.map((u, i) => outcome((i % 2 ? other : s).rooms.join(room.id, u.id, 0)));
          const cap = Bun.sleep(delay).then(() =>
            outcome((delay % 2 ? other : s).rooms.updateRoom(room.id, owner.id, { maxMembers: 10 })),
          );
          const results = await Promise.all(joins);
          const capped = await cap;
          const after = (await s.rooms.getRoom(room.id))!;
          const admitted = results.filter((r) => r === "ok").length;
          expect(after.memberCount).toBe(admitted + 1);
          expect(await s.rooms.members(room.id)).toHaveLength(after.memberCount);
          // Lowered in time: exactly 10 members; too late (already more than 10): the room fills to 20.
          expect(capped === "ok" ? [10, 10] : [capped, after.memberCount]).toEqual(
            capped === "ok" ? [after.maxMembers, after.memberCount] : ["below_member_count", 20],
          );
        }
      } finally {
        await other.close();
      }
    });

    test("remove, ban and unban: owner only; a banned user cannot join until unbanned", async () => {
      const owner = await newUser();
      const a = await newUser();
      const b = await newUser();
      const room = await s.rooms.createRoom({ name: "mod", ownerId: owner.id, maxMembers: 5 });
      await s.rooms.join(room.id, a.id, 0);
      await s.rooms.join(room.id, b.id, 0);
      expect(await outcome(s.rooms.removeMember(room.id, a.id, b.id, false))).toBe("not_owner");
      const removed = await s.rooms.removeMember(room.id, owner.id, a.id, false);
      expect(removed).toMatchObject({ removed: true, room: { memberCount: 2 } });
      expect(await s.rooms.isMember(room.id, a.id)).toBe(false);
      expect(await outcome(s.rooms.join(room.id, a.id, 0))).toBe("ok");
      const banned = await s.rooms.removeMember(room.id, owner.id, a.id, true);
      expect(banned.removed).toBe(true);
      expect(await outcome(s.rooms.join(room.id, a.id, 0))).toBe("banned");
      // Banning a non-member keeps them out too.
      const c = await newUser();
      expect((await s.rooms.removeMember(room.id, owner.id, c.id, true)).removed).toBe(false);
      expect(await outcome(s.rooms.join(room.id, c.id, 0))).toBe("banned");
      expect((await s.rooms.bans(room.id)).map((x) => x.id).sort()).toEqual([a.id, c.id].sort());
      expect(await outcome(s.rooms.unban(room.id, b.id, a.id))).toBe("not_owner");
      expect(await s.rooms.unban(room.id, owner.id, a.id)).toBe(true);
      expect(await s.rooms.unban(room.id, owner.id, a.id)).toBe(false);
      expect(await outcome(s.rooms.join(room.id, a.id, 0))).toBe("ok");
      expect((await s.rooms.getRoom(room.id))?.memberCount).toBe(3);
    });

    test("ownership moves only from the owner to a member", async () => {
      const owner = await newUser();
      const a = await newUser();
      const stranger = await newUser();
      const room = await s.rooms.createRoom({ name: "t", ownerId: owner.id, maxMembers: 5 });
      await s.rooms.join(room.id, a.id, 0);
      expect(await outcome(s.rooms.transferOwnership(room.id, owner.id, stranger.id))).toBe("not_member");
      expect(await outcome(s.rooms.transferOwnership(room.id, a.id, a.id))).toBe("not_owner");
      expect((await s.rooms.transferOwnership(room.id, owner.id, a.id)).ownerId).toBe(a.id);
      expect(await outcome(s.rooms.updateRoom(room.id, owner.id, { name: "x" }))).toBe("not_owner");
      expect(await outcome(s.rooms.deleteRoom(room.id, owner.id))).toBe("not_owner");
      expect(await s.rooms.deleteRoom(room.id, a.id)).toBe(true);
      expect(await s.rooms.deleteRoom(room.id, a.id)).toBe(false);
    });

    test("two owner actions racing through two clients: exactly one wins, the owner is always a member", async () => {
      const other = await fx.openAnother();
      try {
        for (let round = 0; round < 6; round++) {
          const owner = await newUser("own");
          const [b, c, d] = [await newUser(), await newUser(), await newUser()];
          const room = await s.rooms.createRoom({ name: "race", ownerId: owner.id, maxMembers: 5 });
          for (const u of [b, c, d]) await s.rooms.join(room.id, u.id, 0);
          const [x, y] = round % 2 ? [s, other] : [other, s];
          // Hand the room to b, or remove b: whichever commits first makes the other impossible.
          const [transfer, remove] = await Promise.all([
            outcome(x.rooms.transferOwnership(room.id, owner.id, b.id)),
            outcome(y.rooms.removeMember(room.id, owner.id, b.id, false)),
          ]);
          expect([transfer, remove].filter((r) => r === "ok")).toHaveLength(1);
          const mid = (await s.rooms.getRoom(room.id))!;
          expect(mid.ownerId).toBe(transfer === "ok" ? b.id : owner.id);
          expect(await s.rooms.isMember(room.id, mid.ownerId)).toBe(true);
          // The owner hands the room to two members at once: the second finds it no longer owns it.
          const [toC, toD] = await Promise.all([
            outcome(x.rooms.transferOwnership(room.id, mid.ownerId, c.id)),
            outcome(y.rooms.transferOwnership(room.id, mid.ownerId, d.id)),
          ]);
          expect([toC, toD].sort()).toEqual(["not_owner", "ok"]);
          const last = (await s.rooms.getRoom(room.id))!;
          expect(last.ownerId).toBe(toC === "ok" ? c.id : d.id);
        }
      } finally {
        await other.close();
      }
    });

    test("a DM: one room per pair, both members, never discoverable or joinable by others", async () => {
      const a = await newUser();
      const b = await newUser();
      const c = await newUser();
      const first = await s.rooms.openDm(a.id, b.id);
      expect(first).toMatchObject({ created: true, rejoined: false });
      expect(first.room).toMatchObject({ kind: "dm", private: true, memberCount: 2, maxMembers: 2 });
      const again = await s.rooms.openDm(b.id, a.id);
      expect(again).toMatchObject({ created: false, rejoined: false, room: { id: first.room.id } });
      expect((await s.rooms.members(first.room.id)).map((m) => m.id).sort()).toEqual([a.id, b.id].sort());
      const found = await s.rooms.listDiscoverable(c.id, { limit: 1000, offset: 0 });
      expect(found.map((r) => r.id)).not.toContain(first.room.id);
      expect(await outcome(s.rooms.join(first.room.id, c.id, 0, { inviteGen: 0 }))).toBe("not_joinable");
      // One leaves; opening it again brings back only the one who opens it.
      await s.rooms.leave(first.room.id, a.id);
      expect((await s.rooms.openDm(b.id, a.id)).rejoined).toBe(false);
      expect(await s.rooms.isMember(first.room.id, a.id)).toBe(false);
      const back = await s.rooms.openDm(a.id, b.id);
      expect(back).toMatchObject({ rejoined: true, room: { id: first.room.id, memberCount: 2 } });
      expect(await outcome(s.rooms.join(first.room.id, a.id, 0))).toBe("already_member");
    });

    test("concurrent DM creation through two clients, from both sides, makes exactly one room", async () => {
      const other = await fx.openAnother();
      try {
        for (let round = 0; round < 5; round++) {
          const a = await newUser();
          const b = await newUser();
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, i) =>
              (i % 2 ? other : s).rooms.openDm(i % 3 ? a.id : b.id, i % 3 ? b.id : a.id),
            ),
          );
          expect(new Set(results.map((r) => r.room.id)).size).toBe(1);
          expect(results.filter((r) => r.created)).toHaveLength(1);
          const room = (await s.rooms.getRoom(results[0]!.room.id))!;
          expect(room.memberCount).toBe(2);
          expect(await s.rooms.members(room.id)).toHaveLength(2);
        }
      } finally {
        await other.close();
      }
    });

    test("user search: by normalised prefix, in code-point order, paged after the last username", async () => {
      const stem = `srch${unique()}`;
      const names = ["b", "a", "c2", "c1", "d"].map((x) => `${stem}${x}`);
      for (const n of names) await s.users.createUser(n, "h");
      await s.users.createUser(`x${stem}`, "h");
      const page1 = await s.users.search(stem, { limit: 3 });
      expect(page1.map((u) => u.username)).toEqual([`${stem}a`, `${stem}b`, `${stem}c1`]);
      const page2 = await s.users.search(stem, { after: page1.at(-1)!.username, limit: 3 });
      expect(page2.map((u) => u.username)).toEqual([`${stem}c2`, `${stem}d`]);
      expect(await s.users.search(`${stem}c`, { limit: 10 })).toHaveLength(2);
      expect(await s.users.search(`${stem}zz`, { limit: 10 })).toEqual([]);
      const ids = page1.map((u) => u.id);
      expect((await s.users.findByIds([...ids, Bun.randomUUIDv7()])).map((u) => u.id).sort()).toEqual(
        [...ids].sort(),
      );
      expect(await s.users.findByIds([])).toEqual([]);
    });

    test("a deleted account is never found, keeps its username reserved and loses its refresh tokens", async () => {
      const user = await newUser("del");
      const token = `t${unique()}`;
      await s.users.saveRefreshToken({
        tokenHash: token,
        familyId: Bun.randomUUIDv7(),
        userId: user.id,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      });
      expect(await s.users.deleteUser(user.id)).toBe(true);
      expect(await s.users.deleteUser(user.id)).toBe(false);
      expect(await s.users.findById(user.id)).toBeNull();
      expect(await s.users.findByUsername(user.username)).toBeNull();
      expect(await s.users.findByIds([user.id])).toEqual([]);
      expect(await s.users.search(user.username, { limit: 5 })).toEqual([]);
      expect(await s.users.useRefreshToken(token, { at: new Date().toISOString(), by: null })).toBeNull();
      expect(await s.users.getSettings(user.id)).toBeNull();
      expect(await outcome(s.users.createUser(user.username, "h"))).toBe("username_taken");
    });

    test("settings: read receipts on by default, turned off per user", async () => {
      const a = await newUser();
      const b = await newUser();
      expect(await s.users.getSettings(a.id)).toEqual({ readReceipts: true });
      expect(await s.users.updateSettings(a.id, { readReceipts: false })).toBe(true);
      expect(await s.users.getSettings(a.id)).toEqual({ readReceipts: false });
      expect(await s.users.updateSettings(a.id, {})).toBe(true);
      expect(await s.users.getSettings(a.id)).toEqual({ readReceipts: false });
      expect(await s.users.withoutReadReceipts([a.id, b.id])).toEqual(new Set([a.id]));
      expect(await s.users.updateSettings(Bun.randomUUIDv7(), { readReceipts: true })).toBe(false);
    });
  });
}
