import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import {
  apiCall,
  apiSignUp,
  haveChromium,
  launchBrowser,
  Person,
  roomIdOf,
  startServer,
  type TestServer,
  waitForText,
} from "../../../testkit/browser.ts";

/**
 * The outbox: every message typed ends up delivered exactly once, or visibly failed with a retry.
 * The server keeps its default SEND burst (20) but refills at 2/s rather than 10/s, so that 30
 * messages are refused in part however slowly a loaded machine sends them; its message limit is
 * lowered so a message the client accepts can still be refused for good.
 */
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  if (!haveChromium) return;
  [server, browser] = await Promise.all([
    startServer({ MESSAGE_MAX_CHARS: "1000", SEND_RATE_PER_SEC: "2" }),
    launchBrowser(),
  ]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

interface SentFrame {
  id: string;
  receipt: string;
  text: string;
}

/** SEND frames as they leave the page, with their client message id. */
function recordSends(page: Page): SentFrame[] {
  const sent: SentFrame[] = [];
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => {
      const data = typeof f.payload === "string" ? f.payload : f.payload.toString("utf8");
      if (!data.startsWith("SEND\n")) return;
      const [head, body = ""] = data.split("\n\n");
      const headers = Object.fromEntries(
        head!
          .split("\n")
          .slice(1)
          .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]),
      );
      sent.push({
        id: headers["x-client-msg-id"]!,
        receipt: headers.receipt!,
        text: JSON.parse(body.replace(/\0$/, "")).text,
      });
    });
  });
  return sent;
}

describe.skipIf(!haveChromium)("outbox", () => {
  test("30 messages sent at once: each delivered exactly once, in order, the rate limit waited out", async () => {
    const alice = await Person.signUp(browser, server.url, "paster");
    const sends = recordSends(alice.page);
    await alice.page.reload(); // new WebSockets, now recorded
    await alice.createRoom("burst");
    const roomId = roomIdOf(alice.page);
    const bob = await Person.signUp(browser, server.url, "watcher");
    await bob.page.getByRole("button", { name: "Join burst" }).click();
    await bob.page.getByRole("heading", { level: 1, name: "burst" }).waitFor();

    // 30 sends in one go, as fast as a paste-and-Enter macro: faster than the server takes them
    // (SEND_BURST=20, then 2/s), so some are refused with retryAfterMs and retried.
    const texts = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    await alice.page.evaluate((lines) => {
      const box = document.getElementById("composer") as HTMLTextAreaElement;
      for (const line of lines) {
        box.value = line;
        box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      }
    }, texts);
    await waitForText(bob.page, "line 30", 20_000);
    await alice.page.locator(".out-queued, .out-sending, .out-sent").first().waitFor({ state: "detached" });
    expect(await alice.page.locator(".out-failed").count()).toBe(0);

    // The room's history holds each line once, in the order typed.
    const history = await apiCall<{ messages: { text: string; type: string }[] }>(
      server.url,
      "paster",
      "GET",
      `/api/rooms/${roomId}/messages?limit=100`,
    );
    expect(history.messages.filter((m) => m.type === "message").map((m) => m.text)).toEqual(texts);

    // Both screens show each line once.
    for (const page of [alice.page, bob.page]) {
      const shown = await page.$$eval(".messages .msg .text", (els) => els.map((e) => e.textContent));
      expect(shown.filter((t) => t?.startsWith("line "))).toEqual(texts);
    }

    // Every SEND carried a client message id; a retry carried the same one as the first try.
    expect(sends.length).toBeGreaterThan(30);
    const idsByText = new Map<string, Set<string>>();
    for (const s of sends) idsByText.set(s.text, (idsByText.get(s.text) ?? new Set()).add(s.id));
    expect([...idsByText.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(new Set(sends.map((s) => s.id)).size).toBe(30);
    for (const s of sends)
      expect(s.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await alice.closeAll();
    await bob.closeAll();
  }, 60_000);

  test("a message the server refuses for good is shown as not sent, with retry and discard", async () => {
    const carol = await Person.signUp(browser, server.url, "refused");
    await carol.createRoom("strict");
    const long = "x".repeat(1500);
    await carol.say(long);
    await carol.say("after the long one");
    const failed = carol.page.locator(".out-failed");
    await failed.waitFor();
    await expect(failed.getByRole("alert").textContent()).resolves.toContain("Not sent.");
    await expect(failed.getByRole("alert").textContent()).resolves.toContain("too long");
    // What came after it was not held back.
    await waitForText(carol.page, "after the long one");
    await carol.page.locator(".out-queued, .out-sending, .out-sent").first().waitFor({ state: "detached" });

    await failed.getByRole("button", { name: "Retry" }).click();
    await carol.page.locator(".out-failed").waitFor();
    expect(await carol.page.locator(".out-failed").count()).toBe(1);
    await carol.page.locator(".out-failed").getByRole("button", { name: "Discard" }).click();
    await carol.page.locator(".out-failed").waitFor({ state: "detached" });

    // A reload keeps a message that could not be sent yet: the outbox lives in localStorage.
    await carol.say("y".repeat(1500));
    await carol.page.locator(".out-failed").waitFor();
    await carol.page.reload();
    await carol.page.locator(".out-failed").waitFor();
    await carol.closeAll();
  }, 60_000);

  test("a member removed from the room gets a human explanation, not protocol text", async () => {
    await apiSignUp(server.url, "ownerx");
    const { room } = await apiCall<{ room: { id: string } }>(server.url, "ownerx", "POST", "/api/rooms", {
      name: "ephemeral",
      maxMembers: 5,
    });
    const dan = await Person.signUp(browser, server.url, "dan");
    await dan.page.getByRole("button", { name: "Join ephemeral" }).click();
    await dan.page.getByRole("heading", { level: 1, name: "ephemeral" }).waitFor();
    await apiCall(server.url, "ownerx", "DELETE", `/api/rooms/${room.id}`);
    await dan.page.getByRole("alert").filter({ hasText: "This room was deleted." }).waitFor();
    await expect(dan.page.getByLabel("Message ephemeral").isDisabled()).resolves.toBe(true);
    expect(await dan.page.getByRole("link", { name: "ephemeral" }).count()).toBe(0);
    expect(await dan.page.content()).not.toContain("subscription");
    await dan.closeAll();
  }, 60_000);

  test("a room deleted while it opens: the refused subscription is explained once, with no reconnect loop", async () => {
    await apiSignUp(server.url, "owner2");
    const { room } = await apiCall<{ room: { id: string } }>(server.url, "owner2", "POST", "/api/rooms", {
      name: "vanishing",
      maxMembers: 5,
    });
    const eve = await Person.signUp(browser, server.url, "eve");
    await apiCall(server.url, "eve", "POST", `/api/rooms/${room.id}/join`);
    // The history arrives, but only after the room is gone: the SUBSCRIBE that follows is refused.
    await eve.page.route(/\/messages\?/, async (route) => {
      const response = await route.fetch();
      await apiCall(server.url, "owner2", "DELETE", `/api/rooms/${room.id}`);
      await route.fulfill({ response });
    });
    const sockets: number[] = [];
    eve.page.on("websocket", (ws) => {
      if (ws.url().endsWith("/ws")) sockets.push(Date.now());
    });
    await eve.page.goto(`/rooms/${room.id}`);
    await eve.page.getByRole("alert").filter({ hasText: "This room was deleted." }).waitFor();
    const settled = sockets.length;
    await eve.page.waitForTimeout(3000);
    // At most the one reconnect after the ERROR closed the connection; then quiet.
    expect(sockets.length - settled).toBeLessThanOrEqual(1);
    expect(sockets.length).toBeLessThanOrEqual(3);
    await eve.closeAll();
  }, 60_000);
});
