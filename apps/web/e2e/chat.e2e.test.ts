import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import {
  apiCall,
  apiCreateRoom,
  apiSignUp,
  haveChromium,
  PASSWORD,
  Person,
  roomIdOf,
  seedMessages,
  serverAndBrowser,
  waitForText,
} from "../../../testkit/browser.ts";

/** Everyday use on a desktop: rooms, presence, unread, navigation, dialogs, errors. */
const shared = serverAndBrowser();

const people = (page: Page, list: "here" | "away") =>
  page.$$eval(`.room-layout > .people .${list}-list li`, (lis) => lis.map((li) => li.textContent ?? ""));

const scroller = (page: Page) =>
  page.$eval(".messages", (s) => ({ top: s.scrollTop, max: s.scrollHeight - s.clientHeight }));

describe.skipIf(!haveChromium)("chat", () => {
  test("two people chat; presence tells who is in the room now from the other members, current members only", async () => {
    const alice = await Person.signUpWithForm(shared.browser, shared.server.url, "mina");
    await alice.createRoom("garden");
    const bob = await Person.signUp(shared.browser, shared.server.url, "joon");
    await bob.page.getByRole("button", { name: "Join garden" }).click();
    await bob.page.getByRole("heading", { level: 1, name: "garden" }).waitFor();

    await bob.say("안녕하세요 mina 👋");
    await waitForText(alice.page, "안녕하세요 mina 👋");
    await alice.say("hi joon");
    await waitForText(bob.page, "hi joon");
    await alice.page.waitForFunction(
      () => document.querySelectorAll(".room-layout > .people .here-list li").length === 2,
    );
    expect(await people(alice.page, "here")).toEqual(["joon", "mina (you)"]);
    // The sidebar's member count followed the join.
    await alice.page.getByRole("link", { name: /garden.*2\/50/ }).waitFor();

    // Joon goes to the room list: still a member, no longer in the room.
    await bob.page.getByRole("link", { name: /garden/ }).waitFor();
    await bob.page.goto("/");
    await alice.page.waitForFunction(
      () => document.querySelectorAll(".room-layout > .people .away-list li").length === 1,
    );
    expect(await people(alice.page, "away")).toEqual(["joon"]);

    // Joon leaves the room (after confirming): gone from the list altogether.
    await bob.page.getByRole("link", { name: /garden/ }).click();
    await bob.page.getByRole("button", { name: "Leave", exact: true }).click();
    const dialog = bob.page.getByRole("dialog", { name: "Leave garden?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Leave room" }).click();
    await bob.page.getByRole("heading", { level: 1, name: "Pick a room" }).waitFor();
    expect(new URL(bob.page.url()).pathname).toBe("/");
    await bob.page.getByRole("button", { name: "Join garden" }).waitFor();
    await alice.page.waitForFunction(
      () =>
        document.querySelectorAll(
          ".room-layout > .people .here-list li, .room-layout > .people .away-list li",
        ).length === 1,
    );
    expect(await people(alice.page, "here")).toEqual(["mina (you)"]);
    await waitForText(alice.page, "hi joon");
    expect(await alice.page.getByText("joon left").count()).toBe(1);
    // No technical text anywhere.
    for (const p of [alice.page, bob.page]) expect(await p.content()).not.toMatch(/subscription|sub-\d/);
    await alice.closeAll();
    await bob.closeAll();
  }, 60_000);

  test("unread: badge and title, the divider where you left off (never during live chat), then pinned to the bottom or a 'N new' pill", async () => {
    await apiSignUp(shared.server.url, "writer");
    const { room } = await apiCreateRoom(shared.server.url, "writer", "news");
    const reader = await Person.signUp(shared.browser, shared.server.url, "subscriber");
    await reader.page.getByRole("button", { name: "Join news" }).click();
    await reader.page.getByRole("heading", { level: 1, name: "news" }).waitFor();
    await seedMessages(shared.server.url, "writer", room.id, ["old 1", "old 2"]);
    await waitForText(reader.page, "old 2");
    await reader.page.goto("/");
    await reader.page.getByRole("heading", { level: 1, name: "Pick a room" }).waitFor();

    // Someone joins first: a join line is not unread, so the divider goes below it.
    await apiSignUp(shared.server.url, "latecomer");
    await apiCall(shared.server.url, "latecomer", "POST", `/api/rooms/${room.id}/join`);
    const missed = Array.from({ length: 40 }, (_, i) => `missed ${i + 1}`);
    await seedMessages(shared.server.url, "writer", room.id, missed);
    // The room list refreshes when the window gets focus (and every 30 s).
    await reader.page.evaluate(() => dispatchEvent(new Event("focus")));
    await reader.page.getByRole("link", { name: /news.*40 unread/ }).waitFor();
    await reader.page.waitForFunction(() => document.title === "(40) ChatTalk");

    await reader.page.getByRole("link", { name: /news/ }).click();
    const divider = reader.page.locator(".unread-sep");
    await divider.waitFor();
    // The divider sits right above the first missed message, and the room opened there.
    const firstAfter = await reader.page.$eval(
      ".unread-sep",
      (d) => d.parentElement!.querySelector(".text")?.textContent,
    );
    expect(firstAfter).toBe("missed 1");
    const pos = await scroller(reader.page);
    expect(pos.top).toBeLessThan(pos.max - 50);
    await reader.page.waitForFunction(() => document.title === "news · ChatTalk");
    // Not at the bottom: the pill counts what is below.
    await reader.page
      .getByRole("button", { name: /new/ })
      .filter({ hasText: /^\d+ new/ })
      .waitFor();

    // Live messages never add a divider.
    await seedMessages(shared.server.url, "writer", room.id, ["live 1"]);
    await reader.page.getByRole("button", { name: /new — jump to the latest/ }).click();
    await waitForText(reader.page, "live 1");
    await reader.page.waitForFunction(() => {
      const s = document.querySelector(".messages")!;
      return s.scrollHeight - s.clientHeight - s.scrollTop < 5;
    });
    await seedMessages(shared.server.url, "writer", room.id, ["live 2"]);
    await waitForText(reader.page, "live 2");
    // The one divider (if still rendered) is the one above the first missed message.
    const dividers = await reader.page.$$eval(".unread-sep", (els) =>
      els.map((e) => e.parentElement!.querySelector(".text")?.textContent),
    );
    expect(dividers.every((t) => t === "missed 1")).toBe(true);
    // At the bottom, new messages keep it at the bottom.
    await reader.page.waitForFunction(() => {
      const s = document.querySelector(".messages")!;
      return s.scrollHeight - s.clientHeight - s.scrollTop < 5;
    });

    // Scrolled up, new messages bring the pill, not a jump.
    // Scrolled to the top, the list may load an older page and keep its place: wait until the list
    // has stood still for half a second (a loaded machine takes longer than any fixed pause). Right
    // after live 2 the list may still be settling at the bottom (Virtuoso corrects its follow-output
    // scroll as rows are measured) and take the scroll back: then scroll up again, as a person would.
    let before = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      await reader.page.$eval(".messages", (s) => {
        s.scrollTop = 0;
      });
      before = (await scroller(reader.page)).top;
      for (let still = 0; still < 5; ) {
        await reader.page.waitForTimeout(100);
        const now = (await scroller(reader.page)).top;
        still = now === before ? still + 1 : 0;
        before = now;
      }
      const at = await scroller(reader.page);
      if (at.max - at.top > 50) break;
    }
    await seedMessages(shared.server.url, "writer", room.id, ["live 3", "live 4"]);
    const pill = reader.page.getByRole("button", { name: /^2 new/ });
    await pill.waitFor();
    expect(Math.abs((await scroller(reader.page)).top - before)).toBeLessThan(400);
    await pill.click();
    await waitForText(reader.page, "live 4");
    await pill.waitFor({ state: "detached" });

    // Grouping and time: consecutive messages of one sender share one header; the time has the full date.
    const headers = await reader.page.$$eval(".msg:not(.grouped) .who", (w) => w.map((e) => e.textContent));
    expect(headers.length).toBeLessThan(10);
    const title = await reader.page.locator(".msg-head time").first().getAttribute("title");
    expect(title).toMatch(/\d{4}/);
    expect(await reader.page.locator(".day-sep").count()).toBeLessThanOrEqual(1);
    await reader.closeAll();
  }, 60_000);

  test("a URL per room: Back and Forward, reload keeps the room, a deep link survives login", async () => {
    const pat = await Person.signUp(shared.browser, shared.server.url, "pat");
    const first = await pat.createRoom("first room");
    const second = await pat.createRoom("second room");
    expect(new URL(pat.page.url()).pathname).toBe(`/rooms/${second}`);
    await pat.page.goBack();
    await pat.page.getByRole("heading", { level: 1, name: "first room" }).waitFor();
    expect(new URL(pat.page.url()).pathname).toBe(`/rooms/${first}`);
    await pat.page.goForward();
    await pat.page.getByRole("heading", { level: 1, name: "second room" }).waitFor();
    await pat.page.reload();
    await pat.page.getByRole("heading", { level: 1, name: "second room" }).waitFor();

    // Someone follows a link to the room while logged out: log in, land in the room (as a preview
    // with a Join button, since they are not a member yet).
    await apiSignUp(shared.server.url, "quinn");
    const quinn = await Person.open(shared.browser, shared.server.url, "quinn");
    await quinn.page.goto(`/rooms/${second}`);
    await quinn.page.getByRole("heading", { name: "Log in to ChatTalk" }).waitFor();
    await quinn.logIn();
    await quinn.page.getByRole("main").getByRole("button", { name: "Join second room" }).click();
    await quinn.page.getByLabel("Message second room").waitFor();
    expect(new URL(quinn.page.url()).pathname).toBe(`/rooms/${second}`);

    // A link to a room that does not exist says so.
    await quinn.page.goto("/rooms/01900000-0000-7000-8000-000000000000");
    await quinn.page.getByRole("heading", { level: 1, name: "Room not found" }).waitFor();
    await pat.closeAll();
    await quinn.closeAll();
  }, 60_000);

  test("create-room dialog validates inline; a full room, delete for owners, every error in plain words", async () => {
    const owner = await Person.signUp(shared.browser, shared.server.url, "rina");
    await owner.page.getByRole("button", { name: "New room" }).click();
    const dialog = owner.page.getByRole("dialog", { name: "New room" });
    await dialog.getByRole("button", { name: "Create room" }).click();
    await dialog.getByText("Give the room a name.").waitFor();
    await expect(dialog.getByLabel("Room name").getAttribute("aria-invalid")).resolves.toBe("true");
    // Focus went to the field to fix.
    await expect(owner.page.evaluate(() => (document.activeElement as HTMLInputElement).name)).resolves.toBe(
      "name",
    );
    await dialog.getByLabel("Room name").fill("tiny");
    await dialog.getByLabel("Maximum members").fill("1");
    await dialog.getByText("Use a number from 2 to 10,000.").waitFor();
    await expect(dialog.getByText("Give the room a name.").count()).resolves.toBe(0);
    await dialog.getByLabel("Maximum members").fill("2");
    await dialog.getByRole("button", { name: "Create room" }).click();
    await owner.page.getByRole("heading", { level: 1, name: "tiny" }).waitFor();
    const tinyId = roomIdOf(owner.page);

    // Fill it up; a third person is told, in words, that it is full.
    await apiSignUp(shared.server.url, "guest1");
    await apiCall(shared.server.url, "guest1", "POST", `/api/rooms/${tinyId}/join`);
    const late = await Person.signUp(shared.browser, shared.server.url, "late");
    await late.page.goto(`/rooms/${tinyId}`);
    await late.page.getByRole("main").getByRole("button", { name: "Join tiny" }).click();
    await late.page.getByRole("alert").filter({ hasText: "This room is full." }).waitFor();

    // The owner deletes it; a member watching it is told, and it leaves their list.
    const member = await Person.signUp(shared.browser, shared.server.url, "member2");
    const big = await owner.createRoom("to delete");
    await member.page.goto(`/rooms/${big}`);
    await member.page.getByRole("main").getByRole("button", { name: "Join to delete" }).click();
    await member.page.getByLabel("Message to delete").waitFor();
    await member.page.getByRole("link", { name: /to delete/ }).waitFor();
    // Only the owner sees Delete.
    expect(await member.page.getByRole("button", { name: "Delete", exact: true }).count()).toBe(0);
    await owner.page.getByRole("button", { name: "Delete", exact: true }).click();
    await owner.page
      .getByRole("dialog", { name: "Delete to delete?" })
      .getByRole("button", { name: "Delete room" })
      .click();
    await owner.page.getByRole("heading", { level: 1, name: "Pick a room" }).waitFor();
    await member.page.getByRole("alert").filter({ hasText: "This room was deleted." }).waitFor();
    await member.page.getByRole("link", { name: /to delete/ }).waitFor({ state: "detached" });

    // Wrong password: a sentence, not a code.
    const stranger = await Person.open(shared.browser, shared.server.url, "rina");
    await stranger.page.goto("/");
    await stranger.page.getByLabel("Username").fill("rina");
    await stranger.page.getByLabel("Password").fill("not the password");
    await stranger.page.getByRole("button", { name: "Log in", exact: true }).click();
    await stranger.page.getByRole("alert").filter({ hasText: "Wrong username or password." }).waitFor();
    for (const p of [owner.page, late.page, member.page, stranger.page]) {
      expect(await p.content()).not.toMatch(/room_full|invalid_credentials|validation_failed/);
    }
    for (const p of [owner, late, member, stranger]) await p.closeAll();
  }, 60_000);

  test("another tab of the same user follows rooms joined and left in this one", async () => {
    const sam = await Person.signUp(shared.browser, shared.server.url, "sam");
    const other = await sam.newTab();
    await other.goto("/");
    await other.getByRole("navigation", { name: "Rooms" }).waitFor();
    const id = await sam.createRoom("shared");
    await other.getByRole("link", { name: /shared/ }).waitFor();
    await other.goto(`/rooms/${id}`);
    await other.getByLabel("Message shared").waitFor();
    await sam.page.getByRole("button", { name: "Leave", exact: true }).click();
    await sam.page.getByRole("dialog").getByRole("button", { name: "Leave room" }).click();
    await other
      .getByRole("alert")
      .filter({ hasText: "You left this room in another tab or on another device." })
      .waitFor();
    await other.getByRole("link", { name: /shared/ }).waitFor({ state: "detached" });
    await sam.closeAll();
  }, 60_000);

  test("desktop notifications: asked for on a click, shown only while the tab is hidden; unseen count in the title", async () => {
    const uma = await Person.open(shared.browser, shared.server.url, "uma");
    // A stand-in for the shared.browser's Notification that records what the page shows.
    await uma.context.addInitScript(() => {
      const shown: { title: string; body?: string }[] = [];
      class RecordingNotification {
        static permission: NotificationPermission = "default";
        static async requestPermission() {
          RecordingNotification.permission = "granted";
          return "granted" as const;
        }
        onclick: (() => void) | null = null;
        constructor(title: string, o?: { body?: string }) {
          shown.push({ title, body: o?.body });
        }
        close() {}
      }
      Object.assign(window, { Notification: RecordingNotification, __shown: shown });
    });
    await uma.page.goto("/");
    await uma.page.getByRole("button", { name: "Create an account" }).click();
    await uma.page.getByLabel("Username").fill("uma");
    await uma.page.getByLabel("Password").fill(PASSWORD);
    await uma.page.getByRole("button", { name: "Create account" }).click();
    const id = await uma.createRoom("bells");
    await uma.page.getByRole("button", { name: "Turn on desktop notifications" }).click();
    await uma.page.getByRole("button", { name: "Desktop notifications: on" }).waitFor();

    await apiSignUp(shared.server.url, "vic");
    await apiCall(shared.server.url, "vic", "POST", `/api/rooms/${id}/join`);
    await seedMessages(shared.server.url, "vic", id, ["while you look"]);
    await waitForText(uma.page, "while you look");
    expect(await uma.page.evaluate(() => (window as unknown as { __shown: unknown[] }).__shown)).toEqual([]);

    const setVisibility = (state: "hidden" | "visible") =>
      uma.page.evaluate((v) => {
        Object.defineProperty(document, "visibilityState", { value: v, configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      }, state);
    await setVisibility("hidden");
    await seedMessages(shared.server.url, "vic", id, ["while you are away"]);
    await uma.page.waitForFunction(() => (window as unknown as { __shown: unknown[] }).__shown.length === 1);
    expect(await uma.page.evaluate(() => (window as unknown as { __shown: unknown[] }).__shown)).toEqual([
      { title: "vic in bells", body: "while you are away" },
    ]);
    await uma.page.waitForFunction(() => document.title === "(1) bells · ChatTalk");
    await setVisibility("visible");
    await uma.page.waitForFunction(() => document.title === "bells · ChatTalk");
    await uma.closeAll();
  }, 60_000);
});
