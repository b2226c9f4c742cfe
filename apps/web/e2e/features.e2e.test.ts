import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import {
  apiCall,
  apiCreateRoom,
  apiSignUp,
  expectAccessible,
  haveChromium,
  loggedIn,
  PASSWORD,
  Person,
  roomIdOf,
  seedMessages,
  serverAndBrowser,
  waitForText,
} from "../../../testkit/browser.ts";

/**
 * The chat features (issue 12) in the shared.browser, two people each: typing, edit and delete, "seen by",
 * direct messages, the owner's room settings and invite links, the live room list, account deletion.
 */
const shared = serverAndBrowser();

/** Two people in one room: `owner` made it, `member` joined; both have it open. */
async function twoInRoom(owner: string, member: string, room: string): Promise<[Person, Person, string]> {
  const a = await Person.signUp(shared.browser, shared.server.url, owner);
  const id = await a.createRoom(room);
  const b = await Person.signUp(shared.browser, shared.server.url, member);
  await b.page.getByRole("button", { name: `Join ${room}` }).click();
  await b.page.getByRole("heading", { level: 1, name: room }).waitFor();
  return [a, b, id];
}

/** The row of the message with this text, in the open room. */
const row = (page: Page, text: string) => page.locator(".messages .msg", { hasText: text }).first();

describe.skipIf(!haveChromium)("chat features", () => {
  test("typing: the other person sees who types while they type, and not once they stop or send", async () => {
    const [mina, joon] = await twoInRoom("typ-mina", "typ-joon", "typing");
    const line = mina.page.locator(".room-status .typing");
    await joon.page.getByLabel(/^Message /).pressSequentially("hel");
    await line.filter({ hasText: "typ-joon is typing…" }).waitFor();
    // Nobody is told about their own typing.
    expect(await joon.page.locator(".room-status .typing").textContent()).toBe("");
    // Clearing the box says "stopped" at once.
    await joon.page.getByLabel(/^Message /).fill("");
    await joon.page.getByLabel(/^Message /).press("End");
    await mina.page.waitForFunction(() => document.querySelector(".room-status .typing")?.textContent === "");
    // Typing again, then sending: the message ends it.
    await joon.page.getByLabel(/^Message /).pressSequentially("hello");
    await line.filter({ hasText: "is typing…" }).waitFor();
    await joon.page.getByLabel(/^Message /).press("Enter");
    await waitForText(mina.page, "hello");
    await mina.page.waitForFunction(() => document.querySelector(".room-status .typing")?.textContent === "");
    await mina.closeAll();
    await joon.closeAll();
  }, 60_000);

  test("edit and delete: the sender edits and deletes their own, the owner deletes anyone's; live, after a reload and for the other person alike", async () => {
    const [mina, joon, id] = await twoInRoom("ed-mina", "ed-joon", "edits");
    await mina.say("see you at 5");
    await mina.say("a typo thre");
    await joon.say("joon's own words");
    await waitForText(mina.page, "joon's own words");
    await waitForText(joon.page, "a typo thre");

    // Edit by keyboard: the actions button, Edit, the text in place, Enter.
    const typo = row(mina.page, "a typo thre");
    await typo.hover();
    await typo.getByRole("button", { name: "Actions for your message" }).click();
    await typo.getByRole("button", { name: "Edit" }).click();
    const editor = mina.page.getByLabel("Edit your message");
    await expectAccessible(mina.page, "editing a message");
    await editor.fill("a typo there");
    await editor.press("Enter");
    await row(joon.page, "a typo there").getByText("(edited)").waitFor();
    await row(mina.page, "a typo there").getByText("(edited)").waitFor();

    // Joon can't change mina's message: no actions on it.
    expect(await row(joon.page, "see you at 5").getByRole("button").count()).toBe(0);

    // Mina deletes her own message (confirmed), and as the owner, joon's.
    const own = row(mina.page, "see you at 5");
    await own.hover();
    await own.getByRole("button", { name: "Actions for your message" }).click();
    await own.getByRole("button", { name: "Delete" }).click();
    await mina.page
      .getByRole("dialog", { name: "Delete this message?" })
      .getByRole("button", { name: "Delete message" })
      .click();
    const other = row(mina.page, "joon's own words");
    await other.hover();
    await other.getByRole("button", { name: "Actions for ed-joon's message" }).click();
    await other.getByRole("button", { name: "Delete" }).click();
    await mina.page
      .getByRole("dialog", { name: "Delete this message?" })
      .getByRole("button", { name: "Delete message" })
      .click();

    const view = (p: Page) =>
      p.$$eval(".messages .msg .text", (els) => els.map((e) => e.textContent?.trim() ?? ""));
    const expected = ["This message was deleted.", "a typo there (edited)", "This message was deleted."];
    for (const p of [mina.page, joon.page]) {
      await p.waitForFunction((n) => document.querySelectorAll(".messages .msg.deleted").length === n, 2);
      expect(await view(p)).toEqual(expected);
    }
    // After a reload (history): the same view, the deleted text gone for good.
    await joon.page.reload();
    await waitForText(joon.page, "a typo there");
    expect(await view(joon.page)).toEqual(expected);
    const history = await apiCall<{ messages: { text: string; type: string }[] }>(
      shared.server.url,
      "ed-joon",
      "GET",
      `/api/rooms/${id}/messages`,
    );
    expect(history.messages.map((m) => m.text).join(" ")).not.toContain("see you at 5");
    await mina.closeAll();
    await joon.closeAll();
  }, 90_000);

  test("read receipts: 'seen by' once the other person has read; not after they turned receipts off", async () => {
    const [mina, joon] = await twoInRoom("rr-mina", "rr-joon", "receipts");
    await mina.say("did you see this?");
    await waitForText(joon.page, "did you see this?");
    await mina.page
      .locator(".room-status .seen", { hasText: "Seen by rr-joon" })
      .waitFor({ timeout: 15_000 });

    // Joon turns read receipts off in his settings.
    await joon.page.getByRole("button", { name: /Your settings/ }).click();
    const settings = joon.page.getByRole("dialog", { name: "Your settings" });
    const toggle = settings.getByLabel(/Read receipts/);
    await toggle.waitFor();
    await joon.page.waitForFunction(() => {
      const box = document.querySelector<HTMLInputElement>("dialog input[type=checkbox]");
      return box && !box.disabled && box.checked;
    });
    await expectAccessible(joon.page, "your settings");
    await toggle.uncheck();
    await joon.page.waitForFunction(
      () => !document.querySelector<HTMLInputElement>("dialog input[type=checkbox]")!.checked,
    );
    await settings.getByRole("button", { name: "Close" }).click();

    await mina.say("and this one?");
    await waitForText(joon.page, "and this one?");
    // Receipts are published at most once a second: give them well over that.
    await mina.page.waitForTimeout(3_000);
    expect(await mina.page.locator(".room-status .seen").count()).toBe(0);
    await mina.closeAll();
    await joon.closeAll();
  }, 60_000);

  test("direct messages: found by username, opened from the sidebar; the other person's list gets it live, with its unread count", async () => {
    const mina = await Person.signUp(shared.browser, shared.server.url, "dm-mina");
    const joon = await Person.signUp(shared.browser, shared.server.url, "dm-joon");
    await mina.page.getByRole("button", { name: "New direct message" }).click();
    const dialog = mina.page.getByRole("dialog", { name: "New direct message" });
    await dialog.getByLabel("Find someone by username").fill("dm-j");
    await dialog.getByRole("button", { name: "Message dm-joon" }).waitFor();
    await expectAccessible(mina.page, "new direct message");
    await dialog.getByRole("button", { name: "Message dm-joon" }).click();
    await mina.page.getByRole("heading", { level: 1, name: "dm-joon" }).waitFor();
    await mina.say("psst");

    // Joon did nothing: the DM arrives in his list by itself, with the message counted.
    const dms = joon.page.getByRole("list", { name: "Direct messages" });
    await dms.getByRole("link", { name: /dm-mina.*1 unread/ }).waitFor({ timeout: 15_000 });
    await dms.getByRole("link", { name: /dm-mina/ }).click();
    await waitForText(joon.page, "psst");
    await joon.page.getByRole("heading", { level: 1, name: "dm-mina" }).waitFor();
    // Not in Discover for anyone else, and opening it again is the same room.
    const dmId = roomIdOf(mina.page);
    await apiSignUp(shared.server.url, "dm-sora");
    const discover = await apiCall<{ rooms: { id: string }[] }>(
      shared.server.url,
      "dm-sora",
      "GET",
      "/api/rooms/discover",
    );
    expect(discover.rooms.map((r) => r.id)).not.toContain(dmId);
    await mina.page.goto("/");
    await mina.page.getByRole("button", { name: "New direct message" }).click();
    await mina.page.getByLabel("Find someone by username").fill("dm-joon");
    await mina.page.getByRole("button", { name: "Message dm-joon" }).click();
    await waitForText(mina.page, "psst");
    expect(roomIdOf(mina.page)).toBe(dmId);
    for (const p of [mina, joon]) await p.closeAll();
  }, 60_000);

  test("room settings: rename, describe and make private; invite link joins; remove, ban and hand over; every change shows live elsewhere", async () => {
    const [mina, joon, id] = await twoInRoom("adm-mina", "adm-joon", "plans");
    expect(await joon.page.getByRole("button", { name: "Settings", exact: true }).count()).toBe(0);
    await mina.page.getByRole("button", { name: "Settings", exact: true }).click();
    const dialog = mina.page.getByRole("dialog", { name: "plans settings" });
    await dialog.getByLabel("Room name").fill("weekend plans");
    await dialog.getByLabel("Description").fill("who brings what");
    await dialog.getByLabel(/^Private/).check();
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await dialog.getByText("Saved.").waitFor();
    await expectAccessible(mina.page, "room settings");

    // Joon's sidebar and header follow without a reload.
    await joon.page.getByRole("heading", { level: 1, name: "weekend plans" }).waitFor();
    await joon.page.getByRole("link", { name: /weekend plans.*private/ }).waitFor();
    await joon.page.getByText("who brings what").waitFor();

    // A cap below the member count is refused at the field.
    await dialog.getByLabel("Maximum members").fill("1");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await dialog.getByText(/Use a number from 2/).waitFor();

    // An invite link brings sora in (the room is private: not in Discover).
    await dialog.getByRole("button", { name: "Make an invite link" }).click();
    const link = await dialog.getByLabel("Link to share").inputValue();
    expect(link).toMatch(/\/invite#/);
    const sora = await Person.signUp(shared.browser, shared.server.url, "adm-sora");
    expect(await sora.page.getByRole("button", { name: "Join weekend plans" }).count()).toBe(0);
    await sora.page.goto(link);
    await sora.page.getByRole("button", { name: "Join the room" }).click();
    await sora.page.getByRole("heading", { level: 1, name: "weekend plans" }).waitFor();
    expect(roomIdOf(sora.page)).toBe(id);

    // Remove sora: her open room says so at once.
    await dialog.getByRole("button", { name: "Remove adm-sora" }).waitFor();
    await dialog.getByRole("button", { name: "Remove adm-sora" }).click();
    await mina.page
      .getByRole("dialog", { name: "Remove adm-sora?" })
      .getByRole("button", { name: "Remove", exact: true })
      .click();
    await sora.page.getByText("The room's owner removed you from this room.").waitFor({ timeout: 15_000 });
    await sora.page.getByRole("link", { name: /weekend plans/ }).waitFor({ state: "detached" });

    // Hand the room over to joon: he gets the owner's Settings button.
    await dialog.getByRole("button", { name: "Close", exact: true }).click();
    await mina.page.getByRole("button", { name: "Settings", exact: true }).click();
    const again = mina.page.getByRole("dialog", { name: "weekend plans settings" });
    await again.getByRole("button", { name: "Make adm-joon the owner" }).click();
    await mina.page
      .getByRole("dialog", { name: "Make adm-joon the owner?" })
      .getByRole("button", { name: "Hand over" })
      .click();
    await joon.page.getByRole("button", { name: "Settings", exact: true }).waitFor({ timeout: 15_000 });
    await mina.page.getByRole("button", { name: "Settings", exact: true }).waitFor({ state: "detached" });

    // Joon bans mina: she is out and can't come back with the old link.
    await joon.page.getByRole("button", { name: "Settings", exact: true }).click();
    await joon.page.getByRole("button", { name: "Ban adm-mina" }).click();
    await joon.page
      .getByRole("dialog", { name: "Ban adm-mina?" })
      .getByRole("button", { name: "Ban", exact: true })
      .click();
    await mina.page.getByText(/removed you from this room and you can't join it again/).waitFor({
      timeout: 15_000,
    });
    await joon.page.getByRole("button", { name: "Lift the ban on adm-mina" }).waitFor();
    await mina.page.goto(link);
    await mina.page.getByRole("button", { name: "Join the room" }).click();
    await mina.page.getByText("The room's owner has kept you out of this room.").waitFor();
    for (const p of [mina, joon, sora]) await p.closeAll();
  }, 120_000);

  test("live room list: unread counts, rooms deleted and joined elsewhere show without a reload or a refetch", async () => {
    await apiSignUp(shared.server.url, "live-writer");
    const { room } = await apiCreateRoom(shared.server.url, "live-writer", "bulletin");
    const reader = await Person.signUp(shared.browser, shared.server.url, "live-reader");
    // Never refetch the room list from here on: what changes must come from /user/queue/events.
    await reader.page.route("**/api/rooms", (r) => r.abort());
    await reader.page.getByRole("button", { name: "Join bulletin" }).click();
    await reader.page.getByRole("heading", { level: 1, name: "bulletin" }).waitFor();
    await reader.page.goto("/");
    await reader.page.getByRole("heading", { level: 1, name: "Pick a room" }).waitFor();

    await seedMessages(shared.server.url, "live-writer", room.id, ["one", "two", "three"]);
    await reader.page.getByRole("link", { name: /bulletin.*3 unread/ }).waitFor({ timeout: 15_000 });
    await reader.page.waitForFunction(() => document.title.startsWith("(3)"));

    // The same user, elsewhere (another device: an HTTP client), joins a room: it shows up here.
    const other = await apiCreateRoom(shared.server.url, "live-writer", "elsewhere");
    await apiCall(shared.server.url, "live-reader", "POST", `/api/rooms/${other.room.id}/join`);
    await reader.page.getByRole("link", { name: /elsewhere/ }).waitFor({ timeout: 15_000 });
    // The owner deletes it: it goes.
    await apiCall(shared.server.url, "live-writer", "DELETE", `/api/rooms/${other.room.id}`);
    await reader.page
      .getByRole("link", { name: /elsewhere/ })
      .waitFor({ state: "detached", timeout: 15_000 });
    await reader.closeAll();
  }, 60_000);

  test("deleting the account: asks for the password, ends the session with a reason, and the login is gone", async () => {
    const gone = await Person.signUp(shared.browser, shared.server.url, "del-mina");
    await gone.page.getByRole("button", { name: /Your settings/ }).click();
    const dialog = gone.page.getByRole("dialog", { name: "Your settings" });
    await dialog.getByRole("button", { name: "Delete account…" }).click();
    await dialog.getByLabel("Your password, to confirm").fill("not the password");
    await dialog.getByRole("button", { name: "Delete my account" }).click();
    await dialog.getByText("That password isn't right.").waitFor();
    await expectAccessible(gone.page, "delete account");
    await dialog.getByLabel("Your password, to confirm").fill(PASSWORD);
    await dialog.getByRole("button", { name: "Delete my account" }).click();
    await gone.page.getByText("Your account was deleted.").waitFor();
    await gone.logIn().then(
      () => {
        throw new Error("logged in to a deleted account");
      },
      (err: Error) => expect(err.message).toContain("not logged in"),
    );
    await gone.closeAll();
  }, 60_000);

  test("an account deleted on another device: this one says so, not a generic 'session ended'", async () => {
    const here = await Person.signUp(shared.browser, shared.server.url, "del-other");
    await loggedIn(here.page);
    await apiCall(shared.server.url, "del-other", "DELETE", "/api/me", { password: PASSWORD });
    await here.page.getByText("Your account was deleted.").waitFor({ timeout: 15_000 });
    await here.closeAll();
  }, 60_000);
});
