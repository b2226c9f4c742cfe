import { afterAll, beforeAll, expect } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type AppProcess, startAppProcess } from "./app-process.ts";
import { RawStomp } from "./raw-stomp.ts";

/**
 * Support for the web client's browser tests (apps/web/e2e/): Debian's headless Chromium against the
 * one-process app on embedded adapters, people with their own browser profiles, axe, screenshots.
 */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CHATTALK_REQUIRE_SERVICES === "1") {
  throw new Error(`Chromium is required for the browser tests but ${CHROMIUM} does not exist`);
}

export const PASSWORD = "correct horse battery";
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
const SCREENSHOTS = join(import.meta.dir, "../docs/screenshots");

/** Settings every browser test server shares: many sign-ups and logins from 127.0.0.1, short access tokens. */
const TEST_ENV = {
  SIGNUP_IP_BURST: "1000",
  LOGIN_IP_BURST: "1000",
  LOGIN_PAIR_BURST: "1000",
  LOGIN_USERNAME_BURST: "1000",
  ROOM_CREATE_BURST: "100",
  // Short-lived access tokens everywhere, so every test also exercises refresh.
  ACCESS_TOKEN_TTL_SEC: "10",
};

export interface TestServer {
  url: string;
  /** Stops the process (SIGTERM, as an operator would); `start` brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "chattalk-web-"));
  const port = String(await freePort());
  const full = { ...TEST_ENV, ...env, DATA_DIR: dataDir, PORT: port };
  let app: AppProcess | null = await startAppProcess("apps/main.ts", full, undefined, { embedded: true });
  return {
    url: app.url,
    async stop() {
      await app?.stop();
      app = null;
    },
    async start() {
      app = await startAppProcess("apps/main.ts", full, undefined, { embedded: true });
    },
    async dispose() {
      await app?.stop();
      app = null;
    },
  };
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
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
}

/**
 * One server and one browser for a whole test file: started before its first test, stopped after
 * its last (nothing is started without Chromium; the file's tests skip themselves then).
 */
export function serverAndBrowser(): { server: TestServer; browser: Browser } {
  const shared = {} as { server: TestServer; browser: Browser };
  beforeAll(async () => {
    if (!haveChromium) return;
    [shared.server, shared.browser] = await Promise.all([startServer(), launchBrowser()]);
  }, 60_000);
  afterAll(async () => {
    await shared.browser?.close();
    await shared.server?.dispose();
  });
  return shared;
}

export interface PersonOptions {
  viewport?: { width: number; height: number };
  colorScheme?: "light" | "dark";
  isMobile?: boolean;
}

/** Someone using ChatTalk in their own browser profile (own storage), with one or more tabs. */
export class Person {
  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, url: string, name: string, o: PersonOptions = {}): Promise<Person> {
    const context = await browser.newContext({
      baseURL: url,
      viewport: o.viewport ?? DESKTOP,
      colorScheme: o.colorScheme ?? "light",
      isMobile: o.isMobile ?? false,
      hasTouch: o.isMobile ?? false,
      locale: "en-US",
      timezoneId: "Asia/Seoul",
    });
    const page = await context.newPage();
    watch(page, name);
    return new Person(name, context, page);
  }

  /**
   * A new account, logged in on the home page. The account is made over HTTP and the session put
   * where the app keeps it (the sign-up form itself is exercised by signUpWithForm).
   */
  static async signUp(browser: Browser, url: string, name: string, o: PersonOptions = {}): Promise<Person> {
    const p = await Person.open(browser, url, name, o);
    const session = await apiSignUp(url, name);
    const stored = {
      user: session.user,
      accessToken: session.accessToken,
      refreshToken: session.refreshToken,
      skewSec: 0,
    };
    // Once per browser profile (a later reload or tab must find what the app stored since).
    await p.context.addInitScript((s) => {
      if (localStorage.getItem("e2e.seeded")) return;
      localStorage.setItem("e2e.seeded", "1");
      localStorage.setItem("chattalk.session", s);
    }, JSON.stringify(stored));
    await p.page.goto("/");
    await loggedIn(p.page);
    return p;
  }

  /** A new account made through the sign-up form. */
  static async signUpWithForm(
    browser: Browser,
    url: string,
    name: string,
    o: PersonOptions = {},
  ): Promise<Person> {
    const p = await Person.open(browser, url, name, o);
    await p.page.goto("/");
    await p.page.getByRole("button", { name: "Create an account" }).click();
    await p.page.getByLabel("Username").fill(name);
    await p.page.getByLabel("Password").fill(PASSWORD);
    await p.page.getByRole("button", { name: "Create account" }).click();
    await loggedIn(p.page);
    return p;
  }

  async logIn(page = this.page): Promise<void> {
    await page.getByLabel("Username").fill(this.name);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in", exact: true }).click();
    await loggedIn(page);
  }

  async newTab(): Promise<Page> {
    const page = await this.context.newPage();
    watch(page, `${this.name}#2`);
    return page;
  }

  async createRoom(name: string, maxMembers?: number, page = this.page): Promise<string> {
    await page.getByRole("button", { name: "New room" }).click();
    await page.getByLabel("Room name").fill(name);
    if (maxMembers !== undefined) await page.getByLabel("Maximum members").fill(String(maxMembers));
    await page.getByRole("button", { name: "Create room" }).click();
    await page.getByRole("heading", { level: 1, name }).waitFor();
    return roomIdOf(page);
  }

  async say(text: string, page = this.page): Promise<void> {
    const box = page.getByLabel(/^Message /);
    await box.fill(text);
    await box.press("Enter");
  }

  async closeAll(): Promise<void> {
    await this.context.close();
  }
}

/** Waits for the app shell after login or sign-up; if the form shows an error instead, fails with it. */
export async function loggedIn(page: Page): Promise<void> {
  const shell = page.getByRole("navigation", { name: "Rooms" });
  const refused = page.locator(".auth .form-error, .auth .field-error");
  await shell.or(refused).first().waitFor({ timeout: 45_000 });
  if (!(await shell.isVisible())) throw new Error(`not logged in: ${await refused.allTextContents()}`);
}

export function roomIdOf(page: Page): string {
  const m = /\/rooms\/([0-9a-f-]{36})/.exec(page.url());
  if (!m) throw new Error(`not in a room: ${page.url()}`);
  return m[1]!;
}

function watch(page: Page, name: string): void {
  page.on("pageerror", (e) => console.log(`[${name}] page error: ${e.message}`));
  if (process.env.DEBUG_WEB) page.on("console", (m) => console.log(`[${name}] ${m.text()}`));
}

/** The message texts currently rendered in the open room, top to bottom. */
export function shownTexts(page: Page): Promise<string[]> {
  return page.$$eval(".messages .msg .text", (els) => els.map((e) => e.textContent ?? ""));
}

/** Waits until the open room shows a message with exactly this text. */
export async function waitForText(page: Page, text: string, timeout = 10_000): Promise<void> {
  await page.locator(".messages .msg .text", { hasText: text }).first().waitFor({ timeout });
}

/**
 * axe-core on the current screen: no serious or critical violation. `contrastOnly` for a second
 * colour scheme of a screen already checked in full (the structure is the same, only colours change).
 */
export async function expectAccessible(page: Page, screen: string, contrastOnly = false): Promise<void> {
  const axe = new AxeBuilder({ page });
  if (contrastOnly) axe.withRules(["color-contrast"]);
  else axe.withTags(["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]);
  const result = await axe.analyze();
  const bad = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect({ screen, violations: bad }).toEqual({ screen, violations: [] });
}

/** Writes docs/screenshots/<name>.png (committed, shown in the README). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Signs up over HTTP (no browser): for people who only need to exist or to send. */
export async function apiSignUp(url: string, username: string) {
  const res = await fetch(`${url}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`signup ${username}: ${res.status} ${await res.text()}`);
  return (await res.json()) as {
    accessToken: string;
    refreshToken: string;
    user: { id: string; username: string };
  };
}

/** A fresh access token for an existing user (tokens here live 10 s: never reuse a page's). */
export async function apiLogIn(url: string, username: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** A room `username` creates through the HTTP API (room for 10), as `{ room }` like the API answers. */
export function apiCreateRoom(url: string, username: string, name: string) {
  return apiCall<{ room: { id: string } }>(url, username, "POST", "/api/rooms", { name, maxMembers: 10 });
}

/** An HTTP API call as `username` (logged in afresh: access tokens here live 10 s). */
export async function apiCall<T>(
  url: string,
  username: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const token = await apiLogIn(url, username);
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/**
 * Posts messages in order over STOMP, fast: each connection's SEND bucket holds 20, so every 20
 * messages go over a fresh connection, each batch receipted before the next starts.
 */
export async function seedMessages(
  url: string,
  username: string,
  roomId: string,
  texts: string[],
): Promise<void> {
  const ws = `${url.replace(/^http/, "ws")}/ws`;
  for (let i = 0; i < texts.length; i += 20) {
    const c = await RawStomp.connect(ws, await apiLogIn(url, username));
    const batch = texts.slice(i, i + 20);
    batch.forEach((text, j) => {
      c.sendFrame(
        "SEND",
        { destination: `/topic/rooms/${roomId}`, "content-type": "application/json", receipt: `s${j}` },
        JSON.stringify({ text }),
      );
    });
    for (let j = 0; j < batch.length; j++) {
      const f = await c.next((x) => x.command === "RECEIPT" || x.command === "ERROR");
      if (f.command === "ERROR") throw new Error(`seeding refused: ${f.headers.message}`);
    }
    c.close();
    await c.closed;
  }
}
