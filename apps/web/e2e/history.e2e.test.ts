import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import {
  apiCreateRoom,
  apiSignUp,
  haveChromium,
  Person,
  seedMessages,
  serverAndBrowser,
} from "../../../testkit/browser.ts";

/** A long history: the app shell stays put, the list opens at the newest and pages back with no jump. */
const shared = serverAndBrowser();

/** The rendered messages with their seq order and their position inside the scroller. */
function visibleRows(page: Page) {
  return page.$eval(".messages", (scroller) => {
    const top = scroller.getBoundingClientRect().top;
    return [...scroller.querySelectorAll(".msg .text")].map((el) => ({
      text: el.textContent ?? "",
      y: el.getBoundingClientRect().top - top,
    }));
  });
}

describe.skipIf(!haveChromium)("history", () => {
  test("300 messages: opens at the newest, pages to the top with ?before= without a jump, each exactly once", async () => {
    await apiSignUp(shared.server.url, "historian");
    const { room } = await apiCreateRoom(shared.server.url, "historian", "archive");
    const texts = Array.from({ length: 300 }, (_, i) => `entry ${String(i + 1).padStart(3, "0")}`);
    await seedMessages(shared.server.url, "historian", room.id, texts);

    const reader = await Person.signUp(shared.browser, shared.server.url, "reader");
    const page = reader.page;
    const pages: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/messages?")) pages.push(new URL(r.url()).search);
    });
    await page.getByRole("button", { name: "Join archive" }).click();
    await page.getByRole("heading", { level: 1, name: "archive" }).waitFor();
    await page.locator(".msg .text", { hasText: "entry 300" }).waitFor();
    // Rows are measured after they show: within a few frames the list sits at its very end.
    await page
      .waitForFunction(
        () => {
          const s = document.querySelector(".messages")!;
          return Math.abs(s.scrollHeight - s.clientHeight - s.scrollTop) < 4;
        },
        null,
        { timeout: 2000 },
      )
      .catch(() => {});

    // The page itself never scrolls: only the message list does, and it opened at the bottom.
    const layout = await page.evaluate(() => {
      const s = document.querySelector(".messages")!;
      const composer = document.getElementById("composer")!.getBoundingClientRect();
      return {
        pageScrolls: document.scrollingElement!.scrollHeight > innerHeight,
        listScrolls: s.scrollHeight > s.clientHeight,
        atBottom: Math.abs(s.scrollHeight - s.clientHeight - s.scrollTop) < 4,
        composerVisible: composer.bottom <= innerHeight && composer.top > 0,
      };
    });
    expect(layout).toEqual({ pageScrolls: false, listScrolls: true, atBottom: true, composerVisible: true });

    // Scroll to the top again and again. Each older page is held back until the rows on screen
    // are measured; once it is in, the row that was at the top must not have moved.
    let release: (() => void) | null = null;
    await page.route(/\/messages\?.*before=/, async (route) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      await route.continue();
    });
    for (let round = 0; round < 20; round++) {
      if (await page.getByText("This is the beginning of").isVisible()) break;
      release = null;
      await page.$eval(".messages", (s) => {
        s.scrollTop = 0;
      });
      for (let i = 0; i < 100 && !release; i++) await page.waitForTimeout(20);
      expect(release).not.toBeNull();
      await page.waitForTimeout(50);
      const before = await visibleRows(page);
      const anchor = before.find((r) => r.y >= 0)!;
      (release as unknown as () => void)();
      await page.waitForFunction(
        (first) => document.querySelector(".messages .msg .text")?.textContent !== first,
        before[0]!.text,
        { timeout: 5000 },
      );
      await page.waitForTimeout(250);
      const moved = (await visibleRows(page)).find((r) => r.text === anchor.text);
      expect(moved).toBeDefined();
      expect(Math.abs(moved!.y - anchor.y)).toBeLessThan(3);
    }
    await page.getByText("This is the beginning of").waitFor();
    expect(pages.some((q) => q.includes("before="))).toBe(true);

    // Walk back down collecting every message: all 300, each once, in order.
    const order: string[] = [];
    for (let step = 0; step < 200; step++) {
      for (const r of await visibleRows(page)) if (!order.includes(r.text)) order.push(r.text);
      const done = await page.$eval(".messages", (s) => {
        const end = s.scrollTop + s.clientHeight >= s.scrollHeight - 2;
        s.scrollTop += s.clientHeight * 0.6;
        return end;
      });
      if (done) break;
      await page.waitForTimeout(30);
    }
    const entries = order.filter((t) => t.startsWith("entry "));
    expect(entries).toEqual(texts);
    await reader.closeAll();
  }, 60_000);
});
