import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { type AppProcess, startAppProcess } from "../../testkit/app-process.ts";

/** The browser client against the one-process app, in Debian's headless Chromium. */
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CHATTALK_REQUIRE_SERVICES === "1") {
  throw new Error(`Chromium is required for the browser tests but ${CHROMIUM} does not exist`);
}

// Unique per run: with service URLs set (npm test) the app shares Postgres with earlier runs.
const run = Date.now().toString(36);
const ALICE = `alice${run}`;
const BOB = `bob${run}`;
const LOBBY = `lobby ${run}`;

let app: AppProcess;
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  app = await startAppProcess();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function signUp(name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on("console", (m) => process.env.DEBUG_WEB && console.log(`[${name}] ${m.text()}`));
  page.on("pageerror", (e) => console.log(`[${name}] page error: ${e.message}`));
  await page.goto(app.url);
  await page.fill('input[name="username"]', name);
  await page.fill('input[name="password"]', "correct horse battery");
  await page.click('button[value="signup"]');
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForSelector("#conn-state:text('online')");
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.click("#composer button");
}

describe.skipIf(!haveChromium)("browser client", () => {
  test("two people chat, see each other online, and a returning one sees what was missed", async () => {
    const alice = await signUp(ALICE);
    await alice.fill('#create-room input[name="name"]', LOBBY);
    await alice.click("#create-room button");
    await alice.waitForSelector(`#room-title:text('${LOBBY}')`);

    const bob = await signUp(BOB);
    await bob.click(`#discover-rooms li:has-text('${LOBBY}')`);
    await bob.waitForSelector(`#room-title:text('${LOBBY}')`);

    await say(bob, "hi alice");
    await alice.waitForSelector("#messages li:has-text('hi alice')");
    await alice.waitForSelector(`#online li:text('${BOB}')`);
    await bob.waitForSelector(`#online li:text('${ALICE}')`);

    // Bob goes away; alice talks; bob comes back to the room.
    await bob.close();
    await alice.waitForSelector(`#offline li:text('${BOB}')`);
    await say(alice, "are you there?");
    await say(alice, "ping");
    await alice.waitForSelector("#messages li:has-text('ping')");

    const bobAgain = await (await browser.newContext()).newPage();
    await bobAgain.goto(app.url);
    await bobAgain.fill('input[name="username"]', BOB);
    await bobAgain.fill('input[name="password"]', "correct horse battery");
    await bobAgain.click('button[value="login"]');
    await bobAgain.waitForSelector(`#my-rooms li:has-text('${LOBBY}')`);
    if (process.env.DEBUG_WEB) console.log(await bobAgain.textContent("#my-rooms"));
    await bobAgain.waitForSelector(`#my-rooms li:has-text('${LOBBY}') .badge:text('2')`);
    await bobAgain.click(`#my-rooms li:has-text('${LOBBY}')`);
    await bobAgain.waitForSelector("#messages li.divider");
    const afterDivider = await bobAgain.$$eval("#messages li.divider ~ li", (lis) =>
      lis.map((li) => li.textContent ?? ""),
    );
    expect(afterDivider.some((t) => t.includes("are you there?"))).toBe(true);
    expect(afterDivider.some((t) => t.includes("ping"))).toBe(true);
    if (process.env.WEB_SCREENSHOT) await bobAgain.screenshot({ path: process.env.WEB_SCREENSHOT });
  }, 60_000);
});
