import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import {
  haveChromium,
  launchBrowser,
  PASSWORD,
  Person,
  roomIdOf,
  startServer,
  type TestServer,
  waitForText,
} from "../../../testkit/browser.ts";

/**
 * Outages and sessions: the server goes away and comes back; access tokens expire (TTL 10 s). The
 * outage has a server of its own, so the session tests (mostly waiting for tokens to expire) run
 * at the same time.
 */
let outage: TestServer;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  [outage, server, browser] = await Promise.all([startServer(), startServer(), launchBrowser()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await outage?.dispose();
  await server?.dispose();
});

const texts = (page: Page) =>
  page.$$eval(".messages .msg .text", (els) =>
    els.map((e) => e.textContent ?? "").filter((t) => t.startsWith("m:")),
  );

const banner = (page: Page) => page.locator(".banner");

/**
 * Waits until the banner's next scheduled retry is at least 3 s away, does `act`, and checks that
 * an attempt was made before that time: the banner left that schedule (connecting, online, or a
 * new schedule after a failed try — a try may fail at the token refresh, before any socket) while
 * the old one was still in the future. So the retry came from `act`, not from the backoff.
 */
async function retriesBeforeBackoff(page: Page, act: () => Promise<unknown>): Promise<void> {
  const scheduled = (await (
    await page.waitForFunction(
      () => {
        const at = Number(document.querySelector(".banner")?.getAttribute("data-retry-at"));
        return at - Date.now() > 3000 ? at : 0;
      },
      null,
      { timeout: 30_000, polling: 100 },
    )
  ).jsonValue()) as number;
  await act();
  const left = await page.waitForFunction(
    (at) => {
      const now = Number(document.querySelector(".banner")?.getAttribute("data-retry-at"));
      return now !== at ? Date.now() : 0;
    },
    scheduled,
    { timeout: scheduled - Date.now() + 5_000, polling: 50 },
  );
  expect((await left.jsonValue()) as number).toBeLessThan(scheduled);
}

describe.skipIf(!haveChromium).concurrent("resilience", () => {
  test("the server stops for 10 s mid-chat: both recover without a reload and nothing is lost", async () => {
    const alice = await Person.signUp(browser, outage.url, "outage-a");
    await alice.createRoom("weather");
    const roomId = roomIdOf(alice.page);
    const bob = await Person.signUp(browser, outage.url, "outage-b");
    await bob.page.goto(`/rooms/${roomId}`);
    await bob.page.getByRole("main").getByRole("button", { name: "Join weather" }).click();
    await alice.say("m: before 1");
    await bob.say("m: before 2");
    await waitForText(alice.page, "m: before 2");
    // A mark that a reload would erase.
    for (const p of [alice.page, bob.page])
      await p.evaluate(() => Object.assign(window, { __noReload: true }));

    await outage.stop();
    await banner(alice.page)
      .filter({ hasText: /Connection lost\. Reconnecting in \d+ s/ })
      .waitFor();
    await banner(bob.page).filter({ hasText: "Retry now" }).waitFor();
    // Written during the outage: shown at once as waiting, kept in order.
    await alice.say("m: during 1");
    await bob.say("m: during 2");
    await alice.say("m: during 3");
    await alice.page.getByText("Waiting for the connection…").first().waitFor();
    await banner(alice.page).filter({ hasText: "2 messages wait to be sent" }).waitFor();
    const down = Date.now();
    // "Retry now" and coming back to the tab both try at once, before the backoff says to.
    await retriesBeforeBackoff(bob.page, () =>
      banner(bob.page).getByRole("button", { name: "Retry now" }).click(),
    );
    await retriesBeforeBackoff(bob.page, () => bob.page.evaluate(() => dispatchEvent(new Event("focus"))));
    await Bun.sleep(Math.max(0, 10_000 - (Date.now() - down)));
    await outage.start();

    // Both back by themselves, without a reload (backoff capped at 30 s).
    const all = ["m: before 1", "m: before 2", "m: during 1", "m: during 2", "m: during 3"];
    for (const p of [alice.page, bob.page]) {
      await waitForText(p, "m: during 3", 40_000);
      await waitForText(p, "m: during 2", 40_000);
      await banner(p).waitFor({ state: "hidden" });
      expect(await p.evaluate(() => (window as { __noReload?: boolean }).__noReload)).toBe(true);
    }
    await alice.say("m: after");
    for (const p of [alice.page, bob.page]) {
      await waitForText(p, "m: after");
      const shown = await texts(p);
      expect(shown).toHaveLength(all.length + 1);
      expect(new Set(shown)).toEqual(new Set([...all, "m: after"]));
      // Each sender's messages in the order they were written.
      expect(shown.filter((t) => t === "m: during 1" || t === "m: during 3")).toEqual([
        "m: during 1",
        "m: during 3",
      ]);
    }
    await alice.closeAll();
    await bob.closeAll();
  }, 90_000);

  test("access tokens of 10 s, a reload 15 s later in two tabs at once: still logged in in both", async () => {
    const carol = await Person.signUp(browser, server.url, "two-tabs");
    await carol.createRoom("tabs");
    const roomId = roomIdOf(carol.page);
    const second = await carol.newTab();
    await second.goto(`/rooms/${roomId}`);
    await second.getByRole("heading", { level: 1, name: "tabs" }).waitFor();
    const refreshes: number[] = [];
    carol.context.on("response", (r) => {
      if (r.url().endsWith("/api/auth/refresh")) refreshes.push(r.status());
    });

    // Meanwhile the server ends each connection as its 10 s token expires (close 4001); the page
    // comes back with a fresh token at once, without ever telling the user the connection was lost.
    const sockets: string[] = [];
    carol.page.on("websocket", (ws) => sockets.push(ws.url()));
    await carol.page.evaluate(() => {
      const seen: string[] = [];
      new MutationObserver(() => {
        const b = document.querySelector(".banner");
        if (b && !b.hasAttribute("hidden")) seen.push(b.textContent ?? "");
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      Object.assign(window, { __banners: seen });
    });
    await Bun.sleep(15_000);
    expect(sockets.filter((u) => u.endsWith("/ws")).length).toBeGreaterThan(0);
    expect(await carol.page.evaluate(() => (window as unknown as { __banners: string[] }).__banners)).toEqual(
      [],
    );
    await carol.say("m: after a renewal");
    await waitForText(second, "m: after a renewal");
    await Promise.all([carol.page.reload(), second.reload()]);
    for (const p of [carol.page, second]) {
      await p.getByRole("heading", { level: 1, name: "tabs" }).waitFor();
      expect(await p.getByRole("button", { name: "Log in", exact: true }).count()).toBe(0);
    }
    await carol.say("m: from tab one");
    await waitForText(second, "m: from tab one");
    expect(refreshes.length).toBeGreaterThan(0);
    expect(refreshes.every((s) => s === 200)).toBe(true);
    await carol.closeAll();
  }, 60_000);

  test("a session that really ends says why, in every tab", async () => {
    const dave = await Person.signUp(browser, server.url, "ender");
    const other = await dave.newTab();
    await other.goto("/");
    await other.getByRole("navigation", { name: "Rooms" }).waitFor();
    await dave.page.getByRole("button", { name: "Log out" }).click();
    await dave.page.getByRole("button", { name: "Log in", exact: true }).waitFor();
    expect(await dave.page.getByRole("alert").count()).toBe(0);
    await other.getByRole("alert").filter({ hasText: "You logged out in another tab." }).waitFor();

    // Someone else used this browser's refresh token (a copy elsewhere): the server revokes the
    // family, and the page, on its next refresh, says the session was ended.
    await dave.logIn();
    const stolen = await dave.page.evaluate(
      () => JSON.parse(localStorage.getItem("chattalk.session")!).refreshToken,
    );
    const thief = await fetch(`${server.url}/api/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "elsewhere" },
      body: JSON.stringify({ refreshToken: stolen }),
    });
    expect(thief.status).toBe(200);
    // The page refreshes when it next needs a token: here, once its 10 s token is near its end and
    // the window regains focus (which refetches the room list).
    await Bun.sleep(9_000);
    await dave.page.evaluate(() => dispatchEvent(new Event("focus")));
    await dave.page
      .getByRole("alert")
      .filter({ hasText: "Your session was ended" })
      .waitFor({ timeout: 10_000 });
    await dave.page.getByLabel("Password").fill(PASSWORD);
    await dave.closeAll();
  }, 60_000);

  test("offline: the banner says so, and coming back online reconnects at once", async () => {
    const erin = await Person.signUp(browser, server.url, "offline");
    await erin.createRoom("train");
    await erin.say("m: before the tunnel");
    await waitForText(erin.page, "m: before the tunnel");
    // Its RECEIPT first: on a busy machine it could still be on its way, and two would wait below.
    await erin.page.locator(".out-queued, .out-sending").first().waitFor({ state: "detached" });
    await erin.context.setOffline(true);
    await banner(erin.page).filter({ hasText: "You're offline." }).waitFor();
    await erin.say("m: in the tunnel");
    await banner(erin.page).filter({ hasText: "1 message waits to be sent." }).waitFor();
    // The `online` event retries without waiting for the backoff.
    await retriesBeforeBackoff(erin.page, () => erin.context.setOffline(false));
    await waitForText(erin.page, "m: in the tunnel");
    await erin.page.locator(".out-queued, .out-sending, .out-sent").first().waitFor({ state: "detached" });
    await banner(erin.page).waitFor({ state: "hidden" });
    await erin.closeAll();
  }, 60_000);
});
