import type { ChatMessage } from "./api.ts";
import { Store } from "./store.ts";

export type NotifyState = "unsupported" | "off" | "on" | "blocked";

const PREF_KEY = "chattalk.notify";

/**
 * What tells a user that someone wrote: a screen-reader announcement, the count of messages that
 * arrived while the tab was hidden (for the page title), and — only if they turned it on, which asks
 * the browser's permission from their click — a desktop notification while the tab is hidden.
 */
export class Alerts {
  readonly unseen = new Store(0);
  readonly announcement = new Store("");
  readonly notify = new Store<NotifyState>(currentState());

  constructor() {
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.unseen.set(0);
    });
  }

  incoming(m: ChatMessage, roomName: string): void {
    this.announcement.set(`${m.sender.username}: ${m.text}`);
    if (document.visibilityState === "visible") return;
    this.unseen.update((n) => n + 1);
    if (this.notify.get() !== "on") return;
    const n = new Notification(`${m.sender.username} in ${roomName}`, { body: m.text, tag: m.roomId });
    n.onclick = () => {
      focus();
      n.close();
    };
  }

  /** From a click: asks for permission if needed. */
  async enable(): Promise<void> {
    if (typeof Notification === "undefined") return;
    const permission =
      Notification.permission === "default"
        ? await Notification.requestPermission()
        : Notification.permission;
    localStorage.setItem(PREF_KEY, permission === "granted" ? "on" : "off");
    this.notify.set(currentState());
  }

  disable(): void {
    localStorage.setItem(PREF_KEY, "off");
    this.notify.set(currentState());
  }
}

function currentState(): NotifyState {
  if (typeof Notification === "undefined") return "unsupported";
  if (Notification.permission === "denied") return "blocked";
  return Notification.permission === "granted" && localStorage.getItem(PREF_KEY) === "on" ? "on" : "off";
}
