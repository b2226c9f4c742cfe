import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSqliteBacklog } from "../../lib/backlog/sqlite.ts";
import { startBacklogWriter } from "../../lib/backlog/writer.ts";
import { createSqliteBus } from "../../lib/bus/sqlite-log.ts";
import type { MessageBus, Unsubscribe } from "../../lib/bus/types.ts";
import type { ControlEvent } from "../../lib/chat/control.ts";
import { type Actor, type Chat, ChatError, createChat } from "../../lib/chat/index.ts";
import type { LoggedMessage } from "../../lib/chat/message.ts";
import { silentLogger } from "../../lib/log/index.ts";
import type { Stores } from "../../lib/store/types.ts";
import { eventually } from "../eventually.ts";
import type { StoreFixture } from "./store.ts";

const SECRET = new TextEncoder().encode("chat-contract-secret-long-enough-0123456789");
const unique = () => Bun.randomUUIDv7().slice(-12).replace(/-/g, "");

/** The code a domain call was refused with ("ok" when it was not), with its kind. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof ChatError) return `${err.kind}:${err.code}`;
    throw err;
  }
}

/**
 * The chat domain's behaviour over a store adapter (the embedded bus and backlog around it): what each
 * operation allows, refuses, writes into the room's log and tells every node. Run for SQLite and Postgres.
 */
export function runChatContract(name: string, open: () => Promise<StoreFixture>): void {
  describe(`chat domain contract: ${name}`, () => {
    let fx: StoreFixture;
    let chat: Chat;
    let other: Chat;
    let otherStores: Stores;
    let bus: MessageBus;
    let stopWriter: Unsubscribe;
    let clock = Date.now();
    const lines: LoggedMessage[] = [];
    const controls: ControlEvent[] = [];

    const chatOn = (stores: Stores) =>
      createChat(
        {
          users: stores.users,
          rooms: stores.rooms,
          bus: {
            publish: async (d) => {
              const m = await bus.publish(d);
              lines.push(m);
              return m;
            },
            publishControl: async (e) => {
              await bus.publishControl(e);
              controls.push(e);
            },
          },
          backlog,
          log: silentLogger,
        },
        { maxMessageChars: 200, inviteSecret: SECRET, now: () => clock, targetWaitMs: 500 },
      );
    const backlog = createSqliteBacklog(":memory:");
    const actor = async (prefix = "u"): Promise<Actor> => {
      const u = await fx.stores.users.createUser(`${prefix}${unique()}`, "hash");
      return { userId: u.id, username: u.username };
    };
    const linesOf = (roomId: string) => lines.filter((l) => l.roomId === roomId);
    const controlsOf = (roomId: string) => controls.filter((e) => "roomId" in e && e.roomId === roomId);
    const room = (owner: Actor, extra: { private?: boolean; maxMembers?: number } = {}) =>
      chat.rooms.create(owner, { name: `r${unique()}`, maxMembers: extra.maxMembers ?? 10, ...extra });

    beforeAll(async () => {
      fx = await open();
      otherStores = await fx.openAnother();
      bus = createSqliteBus(":memory:");
      stopWriter = await startBacklogWriter(bus, backlog);
      chat = chatOn(fx.stores);
      other = chatOn(otherStores);
    });
    afterAll(async () => {
      await stopWriter?.();
      await bus?.close();
      await backlog.close();
      await otherStores?.close();
      await fx?.dispose();
    });

    test("create: the owner is the first member, a join line opens the log, every node hears of it", async () => {
      const owner = await actor();
      const r = await chat.rooms.create(owner, { name: "Lunch", description: "noon", maxMembers: 5 });
      expect(r).toMatchObject({
        name: "Lunch",
        description: "noon",
        kind: "group",
        private: false,
        memberCount: 1,
      });
      const [line] = linesOf(r.id);
      expect(line).toMatchObject({
        type: "join",
        sender: { id: owner.userId },
        text: `${owner.username} joined`,
      });
      expect(await fx.stores.rooms.getReadPosition(r.id, owner.userId)).toBe(line!.seq);
      expect(controlsOf(r.id)).toEqual([
        { type: "member-joined", roomId: r.id, userId: owner.userId, room: r },
      ]);
      const mine = await chat.rooms.mine(owner);
      expect(mine.find((m) => m.id === r.id)).toMatchObject({ readPosition: line!.seq, unreadCount: 0 });
    });

    test("join and leave: lines, control events, and the refusals of each", async () => {
      const owner = await actor();
      const guest = await actor();
      const r = await room(owner, { maxMembers: 2 });
      await chat.rooms.join(guest, r.id);
      expect(linesOf(r.id).at(-1)).toMatchObject({ type: "join", sender: { id: guest.userId } });
      expect(controlsOf(r.id).at(-1)).toMatchObject({ type: "member-joined", userId: guest.userId });
      expect(await refusal(chat.rooms.join(guest, r.id))).toBe("conflict:already_member");
      expect(await refusal(chat.rooms.join(await actor(), r.id))).toBe("conflict:room_full");
      expect(await refusal(chat.rooms.join(guest, Bun.randomUUIDv7()))).toBe("not_found:room_not_found");
      await chat.rooms.leave(guest, r.id);
      expect(controlsOf(r.id).at(-1)).toEqual({
        type: "member-removed",
        roomId: r.id,
        userId: guest.userId,
        reason: "left",
      });
      expect(linesOf(r.id).at(-1)).toMatchObject({ type: "leave", text: `${guest.username} left` });
      expect(await refusal(chat.rooms.leave(guest, r.id))).toBe("forbidden:not_member");
      expect(await refusal(chat.rooms.members(guest, r.id))).toBe("forbidden:not_member");
    });

    test("private rooms exist only for members until an invite link brings someone in", async () => {
      const owner = await actor();
      const guest = await actor();
      const r = await room(owner, { private: true });
      expect(await refusal(chat.rooms.get(guest, r.id))).toBe("not_found:room_not_found");
      expect(await refusal(chat.rooms.join(guest, r.id))).toBe("not_found:room_not_found");
      expect((await chat.rooms.discover(guest, { limit: 1000, offset: 0 })).map((x) => x.id)).not.toContain(
        r.id,
      );
      expect(await refusal(chat.admin.invite(guest, r.id))).toBe("not_found:room_not_found");
      const { token, expiresAt } = await chat.admin.invite(owner, r.id, 120);
      expect(Date.parse(expiresAt)).toBe((Math.floor(clock / 1000) + 120) * 1000);
      expect(await refusal(chat.rooms.joinByInvite(guest, `${token.slice(0, -2)}AA`))).toBe(
        "invalid:invite_invalid",
      );
      expect(await refusal(chat.rooms.joinByInvite(guest, "nonsense"))).toBe("invalid:invite_invalid");
      const joined = await chat.rooms.joinByInvite(guest, token);
      expect(joined).toMatchObject({ id: r.id, memberCount: 2 });
      expect((await chat.rooms.get(guest, r.id)).isMember).toBe(true);
      // Expired, and revoked.
      const late = await actor();
      clock += 121_000;
      expect(await refusal(chat.rooms.joinByInvite(late, token))).toBe("forbidden:invite_expired");
      const fresh = await chat.admin.invite(owner, r.id);
      await chat.admin.revokeInvites(owner, r.id);
      expect(await refusal(chat.rooms.joinByInvite(late, fresh.token))).toBe("forbidden:invite_revoked");
      expect(await refusal(chat.rooms.joinByInvite(late, (await chat.admin.invite(owner, r.id)).token))).toBe(
        "ok",
      );
    });

    test("update: owner only, an update line naming what changed, never a cap below the member count", async () => {
      const owner = await actor();
      const guest = await actor();
      const r = await room(owner, { maxMembers: 5 });
      await chat.rooms.join(guest, r.id);
      expect(await refusal(chat.admin.update(guest, r.id, { name: "x" }))).toBe("forbidden:not_owner");
      const updated = await chat.admin.update(owner, r.id, { name: "Renamed", maxMembers: 3 });
      expect(updated).toMatchObject({ name: "Renamed", maxMembers: 3 });
      expect(linesOf(r.id).at(-1)).toMatchObject({
        type: "update",
        sender: { id: owner.userId },
        changes: { name: "Renamed", maxMembers: 3 },
        text: `${owner.username} renamed the room to "Renamed", set the member limit to 3`,
      });
      expect(controlsOf(r.id).at(-1)).toEqual({ type: "room-updated", roomId: r.id, room: updated });
      const before = lines.length;
      await chat.admin.update(owner, r.id, { name: "Renamed" });
      expect(lines.length).toBe(before); // nothing changed, nothing said
      expect(await refusal(chat.admin.update(owner, r.id, { maxMembers: 1 }))).toBe(
        "conflict:below_member_count",
      );
    });

    test("a cap change racing joins through two processes is exact", async () => {
      const owner = await actor();
      const r = await room(owner, { maxMembers: 30 });
      const joiners = await Promise.all(Array.from({ length: 40 }, () => actor("j")));
      const joins = joiners.map((u, i) => refusal((i % 2 ? other : chat).rooms.join(u, r.id)));
      const cap = refusal(other.admin.update(owner, r.id, { maxMembers: 12 }));
      const results = await Promise.all(joins);
      const after = (await fx.stores.rooms.getRoom(r.id))!;
      expect(after.memberCount).toBe(results.filter((x) => x === "ok").length + 1);
      expect(after.memberCount).toBe((await cap) === "ok" ? 12 : 30);
      expect(after.memberCount).toBeLessThanOrEqual(after.maxMembers);
    });

    test("remove and ban: live subscriptions revoked, a leave line with `by`, banned users stay out", async () => {
      const owner = await actor();
      const a = await actor();
      const b = await actor();
      const r = await room(owner);
      await chat.rooms.join(a, r.id);
      await chat.rooms.join(b, r.id);
      expect(await refusal(chat.admin.remove(a, r.id, b.userId, { ban: false }))).toBe("forbidden:not_owner");
      expect(await refusal(chat.admin.remove(owner, r.id, owner.userId, { ban: false }))).toBe(
        "invalid:cannot_remove_self",
      );
      await chat.admin.remove(owner, r.id, a.userId, { ban: false });
      expect(controlsOf(r.id).at(-1)).toEqual({
        type: "member-removed",
        roomId: r.id,
        userId: a.userId,
        reason: "removed",
      });
      expect(linesOf(r.id).at(-1)).toMatchObject({
        type: "leave",
        sender: { id: a.userId },
        by: { id: owner.userId, username: owner.username },
        text: `${a.username} was removed by ${owner.username}`,
      });
      expect(await refusal(chat.admin.remove(owner, r.id, a.userId, { ban: false }))).toBe(
        "not_found:not_member",
      );
      await chat.admin.remove(owner, r.id, b.userId, { ban: true });
      expect(controlsOf(r.id).at(-1)).toMatchObject({
        type: "member-removed",
        userId: b.userId,
        reason: "banned",
      });
      expect(await refusal(chat.rooms.join(b, r.id))).toBe("forbidden:banned");
      expect(await refusal(chat.rooms.join(a, r.id))).toBe("ok");
      expect((await chat.admin.bans(owner, r.id)).map((x) => x.id)).toEqual([b.userId]);
      expect(await refusal(chat.admin.bans(a, r.id))).toBe("forbidden:not_owner");
      await chat.admin.unban(owner, r.id, b.userId);
      expect(await refusal(chat.admin.unban(owner, r.id, b.userId))).toBe("not_found:not_banned");
      expect(await refusal(chat.rooms.join(b, r.id))).toBe("ok");
      expect(await refusal(chat.admin.remove(owner, r.id, Bun.randomUUIDv7(), { ban: true }))).toBe(
        "not_found:user_not_found",
      );
    });

    test("transfer: the new owner has the rights, the old one has not; an update line says so", async () => {
      const owner = await actor();
      const heir = await actor();
      const r = await room(owner);
      expect(await refusal(chat.admin.transfer(owner, r.id, heir.userId))).toBe("forbidden:not_member");
      await chat.rooms.join(heir, r.id);
      expect(await refusal(chat.admin.transfer(owner, r.id, owner.userId))).toBe("invalid:already_owner");
      const moved = await chat.admin.transfer(owner, r.id, heir.userId);
      expect(moved.ownerId).toBe(heir.userId);
      expect(linesOf(r.id).at(-1)).toMatchObject({
        type: "update",
        changes: { ownerId: heir.userId },
        text: `${owner.username} made ${heir.username} the owner`,
      });
      expect(await refusal(chat.admin.update(owner, r.id, { name: "no" }))).toBe("forbidden:not_owner");
      expect(await refusal(chat.rooms.delete(owner, r.id))).toBe("forbidden:not_owner");
      await chat.rooms.delete(heir, r.id);
      expect(controlsOf(r.id).at(-1)).toEqual({ type: "room-deleted", roomId: r.id });
      expect(await refusal(chat.rooms.get(heir, r.id))).toBe("not_found:room_not_found");
    });

    test("two owner actions racing through two processes: exactly one wins", async () => {
      for (let round = 0; round < 4; round++) {
        const owner = await actor();
        const b = await actor();
        const r = await room(owner);
        await chat.rooms.join(b, r.id);
        const [transfer, remove] = await Promise.all([
          refusal((round % 2 ? chat : other).admin.transfer(owner, r.id, b.userId)),
          refusal((round % 2 ? other : chat).admin.remove(owner, r.id, b.userId, { ban: false })),
        ]);
        expect([transfer, remove].filter((x) => x === "ok")).toHaveLength(1);
        const after = (await fx.stores.rooms.getRoom(r.id))!;
        expect(await fx.stores.rooms.isMember(r.id, after.ownerId)).toBe(true);
      }
    });

    test("DMs: one room per pair, announced to both, private, with no owner actions", async () => {
      const a = await actor();
      const b = await actor();
      const c = await actor();
      const first = await chat.dms.open(a, b.userId);
      expect(first.created).toBe(true);
      expect(first.room).toMatchObject({
        kind: "dm",
        private: true,
        memberCount: 2,
        peer: { id: b.userId, username: b.username },
      });
      expect(controlsOf(first.room.id).at(-1)).toMatchObject({
        type: "dm-opened",
        users: [
          { id: a.userId, username: a.username },
          { id: b.userId, username: b.username },
        ],
      });
      const back = await chat.dms.open(b, a.userId);
      expect(back).toMatchObject({ created: false, room: { id: first.room.id, peer: { id: a.userId } } });
      expect(await refusal(chat.dms.open(a, a.userId))).toBe("invalid:dm_self");
      expect(await refusal(chat.dms.open(a, Bun.randomUUIDv7()))).toBe("not_found:user_not_found");
      expect(await refusal(chat.rooms.get(c, first.room.id))).toBe("not_found:room_not_found");
      expect(await refusal(chat.rooms.join(c, first.room.id))).toBe("not_found:room_not_found");
      expect(await refusal(chat.admin.update(a, first.room.id, { name: "x" }))).toBe("forbidden:dm_room");
      expect(await refusal(chat.rooms.delete(a, first.room.id))).toBe("forbidden:dm_room");
      const listed = (await chat.rooms.mine(b)).find((x) => x.id === first.room.id);
      expect(listed?.peer).toEqual({ id: a.userId, username: a.username });
    });

    test("concurrent DM opens through two processes, from both sides, make exactly one room", async () => {
      const a = await actor();
      const b = await actor();
      const opened = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other : chat).dms.open(i % 3 ? a : b, i % 3 ? b.userId : a.userId),
        ),
      );
      expect(new Set(opened.map((o) => o.room.id)).size).toBe(1);
      expect(opened.filter((o) => o.created)).toHaveLength(1);
      expect(controls.filter((e) => e.type === "dm-opened" && e.roomId === opened[0]!.room.id)).toHaveLength(
        1,
      );
    });

    test("user search pages by normalised prefix; settings are the user's own", async () => {
      const stem = `find${unique()}`;
      for (const x of ["a", "b", "c"]) await fx.stores.users.createUser(`${stem}${x}`, "h");
      const me = await actor();
      const first = await chat.users.search(me, `  ${stem.toUpperCase()}`, { limit: 2 });
      expect(first.users.map((u) => u.username)).toEqual([`${stem}a`, `${stem}b`]);
      expect(first.next).toBe(`${stem}b`);
      const rest = await chat.users.search(me, stem, { after: first.next!, limit: 2 });
      expect(rest).toEqual({ users: [expect.objectContaining({ username: `${stem}c` })] });
      expect(await chat.users.settings(me)).toEqual({ readReceipts: true });
      expect(await chat.users.updateSettings(me, { readReceipts: false })).toEqual({ readReceipts: false });
    });

    test("history carries every line of the room; members only", async () => {
      const owner = await actor();
      const stranger = await actor();
      const r = await room(owner);
      const sent = await chat.messages.accept(owner, r.id, { text: "hello" });
      expect(sent.duplicate).toBe(false);
      expect(linesOf(r.id).find((l) => l.seq === sent.seq)).toMatchObject({
        type: "message",
        text: "hello",
        sender: { id: owner.userId },
      });
      await eventually(async () => (await backlog.lastSeq(r.id)) >= sent.seq, "the backlog writer");
      const page = await chat.messages.history(owner, r.id, { limit: 10 });
      expect(page.map((m) => m.type)).toEqual(["join", "message"]);
      expect(await refusal(chat.messages.history(stranger, r.id, { limit: 10 }))).toBe(
        "forbidden:not_member",
      );
      expect(await refusal(chat.messages.accept(stranger, r.id, { text: "hi" }))).toBe(
        "forbidden:not_member",
      );
      expect(await refusal(chat.messages.accept(owner, r.id, { text: " " }))).toBe("invalid:invalid_message");
    });

    test("edit: the sender's own message only; an edit event in the log; history shows the new text", async () => {
      const owner = await actor();
      const guest = await actor();
      const r = await room(owner);
      await chat.rooms.join(guest, r.id);
      const { seq } = await chat.messages.accept(guest, r.id, { text: "helo" }, { clientMsgId: "c-42" });
      const sent = linesOf(r.id).find((l) => l.seq === seq)!;
      expect(sent.clientMsgId).toBe("c-42");
      // Edited before the backlog writer stored it: the edit waits for it.
      const edit = await chat.messages.edit(guest, r.id, sent.seq, { text: "hello" });
      expect(edit).toMatchObject({
        type: "edit",
        text: "hello",
        target: { id: sent.id, seq: sent.seq },
        sender: { id: guest.userId },
      });
      expect(await refusal(chat.messages.edit(owner, r.id, sent.seq, { text: "mine now" }))).toBe(
        "forbidden:not_sender",
      );
      expect(await refusal(chat.messages.edit(guest, r.id, sent.seq, { text: "  " }))).toBe(
        "invalid:invalid_message",
      );
      const joinLine = linesOf(r.id).find((l) => l.type === "join")!;
      expect(await refusal(chat.messages.edit(owner, r.id, joinLine.seq, { text: "x" }))).toBe(
        "invalid:not_a_message",
      );
      expect(await refusal(chat.messages.edit(owner, r.id, edit.seq + 1000, { text: "x" }))).toBe(
        "not_found:message_not_found",
      );
      expect(
        await refusal(chat.messages.accept(guest, r.id, { text: "x" }, { clientMsgId: "bad id!" })),
      ).toBe("invalid:invalid_message");
      await eventually(async () => (await backlog.lastSeq(r.id)) >= edit.seq, "the backlog writer");
      const history = await chat.messages.history(owner, r.id, { after: 0, limit: 50 });
      expect(history.find((m) => m.seq === sent.seq)).toMatchObject({
        text: "hello",
        editedAt: edit.sentAt,
        clientMsgId: "c-42",
      });
      expect(history.at(-1)).toMatchObject({ type: "edit", seq: edit.seq });
    });

    test("the room list's unread count: others' chat messages only — not joins, leaves, own messages, edits or deletes", async () => {
      const owner = await actor();
      const reader = await actor();
      const c = await actor();
      const r = await room(owner);
      await chat.rooms.join(reader, r.id); // the reader's read position: their join line
      const unreadOf = async () => (await chat.rooms.mine(reader)).find((x) => x.id === r.id)!;
      expect((await unreadOf()).unreadCount).toBe(0);
      await chat.rooms.join(c, r.id);
      const mine = await chat.messages.accept(reader, r.id, { text: "my own" });
      const one = await chat.messages.accept(owner, r.id, { text: "one" });
      const two = await chat.messages.accept(c, r.id, { text: "two" });
      await chat.messages.accept(c, r.id, { text: "three" });
      const edit = await chat.messages.edit(owner, r.id, one.seq, { text: "one!" });
      await chat.messages.edit(reader, r.id, mine.seq, { text: "mine!" });
      await chat.messages.delete(c, r.id, two.seq);
      await chat.rooms.leave(c, r.id);
      await chat.admin.update(owner, r.id, { name: `n${unique()}` });
      const last = linesOf(r.id).at(-1)!;
      await eventually(async () => (await backlog.lastSeq(r.id)) >= last.seq, "the backlog writer");
      // Unread: "one!" and "three" ("two" is deleted).
      const listed = await unreadOf();
      expect(listed).toMatchObject({ unreadCount: 2, unreadCountCapped: false, lastSeq: last.seq });
      expect(await chat.rooms.unread(reader.userId, r.id, listed.readPosition)).toBe(2);
      expect(await chat.rooms.unread(reader.userId, r.id, edit.seq)).toBe(0);
      // The owner has not read the reader's and c's messages: "my own" and "three".
      expect(await chat.rooms.unread(owner.userId, r.id, 0)).toBe(2);
    });

    test("delete: the sender or the owner; a tombstone in history; no edits after", async () => {
      const owner = await actor();
      const a = await actor();
      const b = await actor();
      const r = await room(owner);
      await chat.rooms.join(a, r.id);
      await chat.rooms.join(b, r.id);
      const first = await chat.messages.accept(a, r.id, { text: "one" });
      const second = await chat.messages.accept(a, r.id, { text: "two" });
      expect(await refusal(chat.messages.delete(b, r.id, first.seq))).toBe("forbidden:not_sender");
      const byOwner = await chat.messages.delete(owner, r.id, first.seq);
      expect(byOwner).toMatchObject({
        type: "delete",
        text: "",
        target: { seq: first.seq },
        sender: { id: owner.userId },
      });
      await chat.messages.delete(a, r.id, second.seq);
      await eventually(async () => (await backlog.lastSeq(r.id)) > second.seq + 1, "the backlog writer");
      expect(await refusal(chat.messages.edit(a, r.id, first.seq, { text: "back" }))).toBe(
        "not_found:message_deleted",
      );
      expect(await refusal(chat.messages.delete(a, r.id, first.seq))).toBe("not_found:message_deleted");
      const history = await chat.messages.history(owner, r.id, { after: 0, limit: 50 });
      const shown = history.filter((m) => m.type === "message");
      expect(shown.map((m) => [m.text, typeof m.deletedAt])).toEqual([
        ["", "string"],
        ["", "string"],
      ]);
      // In a DM nobody deletes the other's messages.
      const dm = await chat.dms.open(a, b.userId);
      const said = await chat.messages.accept(b, dm.room.id, { text: "mine" });
      expect(await refusal(chat.messages.delete(a, dm.room.id, said.seq))).toBe("forbidden:not_sender");
    });
  });
}
