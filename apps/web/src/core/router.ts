import { Store } from "./store.ts";

export type Route =
  | { name: "home" }
  | { name: "room"; roomId: string }
  /** An invite link: `/invite#<token>` (in the fragment, so the token never reaches a server log). */
  | { name: "invite"; token: string };

const ROOM_PATH = /^\/rooms\/([0-9a-fA-F-]{36})\/?$/;

export function parseRoute(path: string, hash = ""): Route {
  if (path === "/invite" && hash.length > 1)
    return { name: "invite", token: decodeURIComponent(hash.slice(1)) };
  const m = ROOM_PATH.exec(path);
  return m ? { name: "room", roomId: m[1]!.toLowerCase() } : { name: "home" };
}

export const roomPath = (roomId: string) => `/rooms/${roomId}`;
export const inviteUrl = (origin: string, token: string) => `${origin}/invite#${encodeURIComponent(token)}`;

/**
 * The URL is the state of navigation: one path per room, so Back/Forward, reload and deep links
 * (kept through the login screen, which does not change the URL) all land where they should.
 */
export class Router {
  readonly route = new Store<Route>(parseRoute(location.pathname, location.hash));

  constructor() {
    addEventListener("popstate", () => this.route.set(parseRoute(location.pathname, location.hash)));
    // An unknown path becomes the home page without a history entry.
    if (this.route.get().name === "home" && location.pathname !== "/") history.replaceState(null, "", "/");
  }

  go(path: string, opts: { replace?: boolean } = {}): void {
    if (path === location.pathname) return;
    if (opts.replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
    this.route.set(parseRoute(path));
  }
}
