import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import {
  apiCall,
  apiLogIn,
  apiSignUp,
  expectAccessible,
  haveChromium,
  launchBrowser,
  loggedIn,
  PASSWORD,
  Person,
  PHONE,
  screenshot,
  seedMessages,
  startServer,
  type TestServer,
  waitForText,
} from "../../../testkit/browser.ts";
import { RawStomp } from "../../../testkit/raw-stomp.ts";

/**
 * Every screen, light and dark, desktop and phone: axe reports nothing serious or critical; the
 * phone layout is two screens with the composer above the keyboard; everything works by keyboard.
 * Writes the README's screenshots to docs/screenshots/.
 */
let server: TestServer;
let browser: Browser;
let roomId = "";
let randomId = "";

beforeAll(async () => {
  if (!haveChromium) return;
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  // A conversation to look at: three people, Korean and emoji included.
  await apiSignUp(server.url, "mina");
  const joon = await apiSignUp(server.url, "joon");
  const sora = await apiSignUp(server.url, "sora");
  const { room } = await apiCall<{ room: { id: string } }>(server.url, "mina", "POST", "/api/rooms", {
    name: "design review",
    maxMembers: 50,
  });
  roomId = room.id;
  const random = await apiCall<{ room: { id: string } }>(server.url, "mina", "POST", "/api/rooms", {
    name: "random",
    maxMembers: 50,
  });
  randomId = random.room.id;
  await apiCall(server.url, "joon", "POST", "/api/rooms", { name: "서울 모임", maxMembers: 20 });
  for (const u of [joon, sora])
    await apiCall(server.url, u.user.username, "POST", `/api/rooms/${room.id}/join`);
  await seedMessages(server.url, "mina", room.id, [
    "Morning! The new client is up on staging.",
    "Open any room and scroll up: older pages load without a jump.",
  ]);
  await seedMessages(server.url, "joon", room.id, [
    "좋아요! 폰에서도 잘 보여요 👍",
    "Presence looks right too.",
  ]);
  await seedMessages(server.url, "sora", room.id, [
    "Tried it with the server restarting — it came back on its own and sent what I'd typed. 🎉",
  ]);
  // An edited message, and a direct message waiting for sora.
  const { messages } = await apiCall<{ messages: { seq: number; text: string }[] }>(
    server.url,
    "joon",
    "GET",
    `/api/rooms/${room.id}/messages`,
  );
  const presence = messages.find((m) => m.text === "Presence looks right too.")!;
  await apiCall(server.url, "joon", "PATCH", `/api/rooms/${room.id}/messages/${presence.seq}`, {
    text: "Presence looks right too, and typing shows who's writing.",
  });
  const dm = await apiCall<{ room: { id: string } }>(server.url, "joon", "POST", "/api/dms", {
    userId: sora.user.id,
  });
  await seedMessages(server.url, "joon", dm.room.id, ["Lunch after the review? 🍜"]);
}, 60_000);

/** Joon types in the room (over STOMP) until the returned function is called. */
async function joonTypes(): Promise<() => void> {
  const c = await RawStomp.connect(
    `${server.url.replace(/^http/, "ws")}/ws`,
    await apiLogIn(server.url, "joon"),
  );
  c.sendFrame(
    "SEND",
    { destination: `/topic/rooms/${roomId}/typing`, "content-type": "application/json" },
    JSON.stringify({ typing: true }),
  );
  return () => c.close();
}
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

async function login(name: string, o: Parameters<typeof Person.open>[3] = {}, path = `/rooms/${roomId}`) {
  const p = await Person.open(browser, server.url, name, o);
  await p.page.goto(path);
  await p.logIn();
  return p;
}

/** Presses Tab until the focused element has this accessible name (or text); fails after `max`. */
async function tabTo(page: Page, name: RegExp, max = 40, key = "Tab"): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    if (name.test((await focusedName(page)) ?? "")) return;
  }
  throw new Error(`${name} not reached with ${key}`);
}

/** The focused element's label: aria-label, its <label>, or its text. */
function focusedName(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return "";
    return (
      el.getAttribute("aria-label") ??
      (el as HTMLInputElement).labels?.[0]?.textContent ??
      el.textContent ??
      ""
    );
  });
}

describe.skipIf(!haveChromium)("screens", () => {
  // Light: every screen in full. Dark: contrast on the screens that use every colour token (the
  // others are the same markup on the same tokens).
  test("desktop, light and dark: every screen passes axe; screenshots", async () => {
    for (const scheme of ["light", "dark"] as const) {
      const guest = await Person.open(browser, server.url, `guest-${scheme}`, { colorScheme: scheme });
      await guest.page.goto("/");
      await guest.page.getByRole("button", { name: "Log in", exact: true }).click();
      await guest.page.getByText("Enter a username.").waitFor();
      await expectAccessible(guest.page, `login with errors (${scheme})`, scheme === "dark");
      await guest.page.getByRole("button", { name: "Create an account" }).click();
      if (scheme === "light") await expectAccessible(guest.page, "sign-up");
      await guest.closeAll();

      const sora = await login("sora", { colorScheme: scheme });
      await waitForText(sora.page, "came back on its own");
      await sora.page
        .getByRole("complementary", { name: "People in this room" })
        .getByText("sora (you)")
        .waitFor();
      await expectAccessible(sora.page, `room (${scheme})`, scheme === "dark");
      const stop = await joonTypes();
      await sora.page.getByText("joon is typing…").waitFor();
      await screenshot(sora.page, `desktop-${scheme}`);
      stop();

      await sora.page.getByRole("button", { name: "New room" }).click();
      await sora.page.getByRole("dialog").getByRole("button", { name: "Create room" }).click();
      await sora.page.getByText("Give the room a name.").waitFor();
      await expectAccessible(sora.page, `create-room dialog with errors (${scheme})`, scheme === "dark");
      await sora.page.keyboard.press("Escape");

      await sora.page.getByRole("button", { name: "Leave", exact: true }).click();
      await sora.page.getByRole("dialog", { name: "Leave design review?" }).waitFor();
      if (scheme === "light") await expectAccessible(sora.page, "leave dialog");
      await sora.page.keyboard.press("Escape");

      await sora.page
        .getByRole("link", { name: /random|서울/ })
        .first()
        .waitFor({ state: "detached" });
      await sora.page.goto("/");
      await sora.page.getByRole("heading", { level: 1, name: "Pick a room" }).waitFor();
      await expectAccessible(sora.page, `home (${scheme})`, scheme === "dark");
      await sora.page.getByRole("button", { name: "Join random" }).waitFor();
      await sora.page.goto(`/rooms/${randomId}`);
      await sora.page.getByRole("main").getByRole("button", { name: "Join random" }).waitFor();
      if (scheme === "light") await expectAccessible(sora.page, "room preview");
      await sora.page.goto("/rooms/01900000-0000-7000-8000-000000000000");
      await sora.page.getByRole("heading", { level: 1, name: "Room not found" }).waitFor();
      if (scheme === "light") await expectAccessible(sora.page, "room not found");
      await sora.closeAll();
    }
  }, 60_000);

  test("the owner's room settings, light and dark: axe; screenshot", async () => {
    for (const scheme of ["light", "dark"] as const) {
      const mina = await login("mina", { colorScheme: scheme });
      await waitForText(mina.page, "came back on its own");
      await mina.page.getByRole("button", { name: "Settings", exact: true }).click();
      const dialog = mina.page.getByRole("dialog", { name: "design review settings" });
      await dialog.getByRole("button", { name: "Make an invite link" }).click();
      await dialog.getByLabel("Link to share").waitFor();
      await dialog.getByRole("button", { name: "Remove joon" }).waitFor();
      await expectAccessible(mina.page, `room settings (${scheme})`, scheme === "dark");
      if (scheme === "light") await screenshot(mina.page, "desktop-settings-light");
      await mina.closeAll();
    }
    // On a phone the owner's header keeps room for the title; deleting is in the settings.
    const owner = await login("mina", { viewport: PHONE, isMobile: true, colorScheme: "dark" }, "/");
    await owner.page.getByRole("link", { name: /design review/ }).click();
    await waitForText(owner.page, "came back on its own");
    const title = await owner.page.getByRole("heading", { level: 1, name: "design review" }).boundingBox();
    expect(title!.width).toBeGreaterThan(100);
    expect(await owner.page.getByRole("button", { name: "Delete", exact: true }).isVisible()).toBe(false);
    await owner.page.getByRole("button", { name: "Settings", exact: true }).click();
    await owner.page.getByRole("button", { name: "Delete this room…" }).click();
    await owner.page.getByRole("dialog", { name: "Delete design review?" }).waitFor();
    await owner.page.keyboard.press("Escape");
    await owner.closeAll();
  }, 60_000);

  test("phone: room list and room are two screens, people in a drawer, the composer stays above the keyboard", async () => {
    for (const scheme of ["light", "dark"] as const) {
      const joon = await login("joon", { viewport: PHONE, isMobile: true, colorScheme: scheme }, "/");
      const page = joon.page;
      // The room list is the whole screen.
      await page.getByRole("link", { name: /design review/ }).waitFor();
      expect(await page.getByRole("main").isVisible()).toBe(false);
      await expectAccessible(page, `phone rooms (${scheme})`, scheme === "dark");
      if (scheme === "light") await screenshot(page, "phone-rooms-light");

      // The room is the next screen; the list is gone, the composer is on screen.
      await page.getByRole("link", { name: /design review/ }).click();
      await waitForText(page, "came back on its own");
      expect(await page.getByRole("navigation", { name: "Rooms" }).isVisible()).toBe(false);
      // Focus went to the room's title, not the message box (which would pop up the keyboard).
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("room-title");
      await expectAccessible(page, `phone room (${scheme})`, scheme === "dark");
      await screenshot(page, `phone-${scheme}`);

      const box = () => page.getByLabel("Message design review").boundingBox();
      const inView = async (height: number) => {
        const b = (await box())!;
        return b.y >= 0 && b.y + b.height <= height;
      };
      expect(await inView(PHONE.height)).toBe(true);
      // The on-screen keyboard takes ~45% of the height: the composer and the title stay visible.
      await page.setViewportSize({ width: PHONE.width, height: 470 });
      await page.getByLabel("Message design review").focus();
      await page.waitForTimeout(200);
      expect(await inView(470)).toBe(true);
      expect(await page.getByRole("heading", { level: 1, name: "design review" }).isVisible()).toBe(true);
      expect(await page.evaluate(() => document.scrollingElement!.scrollTop)).toBe(0);
      // Sent once, after both schemes' room screenshots, so neither shows a line the test typed.
      if (scheme === "dark") {
        await joon.say("typed on a phone");
        await waitForText(page, "typed on a phone");
      }
      await page.setViewportSize(PHONE);

      // People, in a drawer.
      await page.getByRole("button", { name: "People" }).click();
      const drawer = page.getByRole("dialog", { name: "People" });
      await drawer.getByText("joon (you)").waitFor();
      await expectAccessible(page, `phone people drawer (${scheme})`, scheme === "dark");
      if (scheme === "dark") await screenshot(page, "phone-people-dark");
      await drawer.getByRole("button", { name: "Close" }).click();

      // Back goes to the list screen, Forward to the room again.
      await page.goBack();
      await page.getByRole("link", { name: /design review/ }).waitFor();
      await page.goForward();
      await page.getByLabel("Message design review").waitFor();
      // The back arrow in the room header does the same.
      await page.getByRole("link", { name: "Back to rooms" }).click();
      await page.getByRole("navigation", { name: "Rooms" }).waitFor();
      await joon.closeAll();
    }
  }, 60_000);

  test("keyboard only: sign up, create a room, talk, confirm and cancel, join and switch rooms", async () => {
    const kim = await Person.open(browser, server.url, "kim");
    const page = kim.page;
    await page.goto("/");
    await page.getByRole("heading", { name: "Log in to ChatTalk" }).waitFor();
    await tabTo(page, /Create an account/);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Create your account" }).waitFor();
    await tabTo(page, /Username/, 10, "Shift+Tab");
    await page.keyboard.type("kim");
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await loggedIn(page);

    await tabTo(page, /^New room$/);
    await page.keyboard.press("Enter");
    // The dialog puts focus in its first field.
    expect(await focusedName(page)).toBe("Room name");
    await page.keyboard.type("keys");
    await tabTo(page, /^Create room$/);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "keys" }).waitFor();
    // The room opens with focus in the message box.
    expect(await focusedName(page)).toBe("Message keys");
    await page.keyboard.type("typed without a mouse");
    await page.keyboard.press("Enter");
    await waitForText(page, "typed without a mouse");

    // The message list can be focused (and so scrolled) from the keyboard.
    await tabTo(page, /^Messages$/, 10, "Shift+Tab");
    await tabTo(page, /^Leave$/, 10, "Shift+Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "Leave keys?" }).waitFor();
    expect(await focusedName(page)).toBe("Cancel");
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached" });
    expect(await focusedName(page)).toBe("Leave");

    // Join a room from Discover, then switch back to the first one, all from the keyboard.
    await tabTo(page, /Join design review/);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "design review" }).waitFor();
    await tabTo(page, /^keys/, 40, "Shift+Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "keys" }).waitFor();
    await expectAccessible(page, "after the keyboard flow");
    await kim.closeAll();
  }, 60_000);
});
