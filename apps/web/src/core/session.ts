import type { UserRef } from "../../../../lib/chat/message.ts";
import { ApiError, describeError } from "./errors.ts";
import { Store } from "./store.ts";

/** What login, sign-up and refresh return, plus how far this machine's clock is from the server's. */
export interface Tokens {
  user: UserRef;
  accessToken: string;
  refreshToken: string;
  /** Local clock minus server clock, in seconds, measured when the access token arrived. */
  skewSec: number;
}

export type SessionState =
  | { status: "in"; user: UserRef }
  /** `ended`: why the last session ended, when the user did not end it themselves here. */
  | { status: "out"; ended: string | null };

const TOKENS_KEY = "chattalk.session";
const ENDED_KEY = "chattalk.session.ended";
const LOCK = "chattalk.refresh";

interface Claims {
  exp: number;
  iat: number;
}

function claims(jwt: string): Claims | null {
  try {
    const part = jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
    return typeof json.exp === "number" && typeof json.iat === "number" ? json : null;
  } catch {
    return null;
  }
}

/** Whether the access token is expired or close to it (the last fifth of its life, at most 30 s). */
export function expiresSoon(t: Pick<Tokens, "accessToken" | "skewSec">, nowMs = Date.now()): boolean {
  const c = claims(t.accessToken);
  if (!c) return true;
  const margin = Math.min(30, (c.exp - c.iat) / 5);
  return c.exp - (nowMs / 1000 - t.skewSec) <= margin;
}

/** Tokens from an auth response, stamped with the clock skew against the token's issue time. */
export function tokensFrom(body: { user: UserRef; accessToken: string; refreshToken: string }): Tokens {
  const iat = claims(body.accessToken)?.iat ?? Date.now() / 1000;
  return {
    user: body.user,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    skewSec: Date.now() / 1000 - iat,
  };
}

export async function readApiError(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string; fields?: Record<string, string> };
  };
  const retry = Number(res.headers.get("retry-after"));
  return new ApiError(
    res.status,
    body.error?.code ?? (res.status >= 500 ? "internal" : "bad_request"),
    body.error?.message ?? res.statusText,
    body.error?.fields ?? {},
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  );
}

/**
 * The login session: tokens in localStorage (shared by the tabs of this browser) and one refresh at
 * a time — within the tab by sharing the pending promise, across tabs with a Web Lock. The tab that
 * gets the lock second finds the tokens already renewed and takes them, so a reload with an expired
 * access token in several tabs spends the refresh token once. (Where Web Locks are missing — plain
 * http on a LAN address — the server's reuse grace window covers the race.)
 */
export class Session {
  readonly state: Store<SessionState>;
  private tokens: Tokens | null;
  private pending: Promise<void> | null = null;

  constructor() {
    this.tokens = readTokens();
    this.state = new Store<SessionState>(
      this.tokens
        ? { status: "in", user: this.tokens.user }
        : { status: "out", ended: localStorage.getItem(ENDED_KEY) },
    );
    window.addEventListener("storage", (e) => {
      if (e.key === TOKENS_KEY) this.adoptFromStorage();
    });
  }

  get user(): UserRef | null {
    return this.tokens?.user ?? null;
  }

  /** After login or sign-up. */
  begin(tokens: Tokens): void {
    localStorage.removeItem(ENDED_KEY);
    this.save(tokens);
    this.state.set({ status: "in", user: tokens.user });
  }

  /** A valid access token, refreshed first when it is (nearly) expired. */
  async accessToken(): Promise<string> {
    const t = this.tokens;
    if (!t) throw new ApiError(401, "token_missing", "not logged in");
    if (expiresSoon(t)) await this.refresh(t.accessToken);
    return this.tokens!.accessToken;
  }

  /**
   * Renews the pair unless `stale` (the access token a request was refused with) is no longer the
   * current one. A network failure throws and keeps the session; a refused refresh token ends it.
   */
  refresh(stale: string): Promise<void> {
    if (this.tokens && this.tokens.accessToken !== stale && !expiresSoon(this.tokens))
      return Promise.resolve();
    this.pending ??= this.refreshOnce(stale).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Ends the session here and in every tab; `why` is shown on the login screen (null: the user chose). */
  end(why: string | null): void {
    if (why) localStorage.setItem(ENDED_KEY, why);
    else localStorage.removeItem(ENDED_KEY);
    this.save(null);
    this.state.set({ status: "out", ended: why });
  }

  async logout(): Promise<void> {
    const refreshToken = this.tokens?.refreshToken;
    this.end(null);
    if (refreshToken) {
      await fetch("/api/auth/logout", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refreshToken }),
      }).catch(() => {});
    }
  }

  private async refreshOnce(stale: string): Promise<void> {
    const run = async () => {
      const latest = readTokens();
      if (!latest) {
        this.adoptFromStorage();
        throw new ApiError(401, "token_missing", "logged out");
      }
      // Another tab renewed the pair while this one waited for the lock.
      if (latest.accessToken !== stale && !expiresSoon(latest)) {
        this.adopt(latest);
        return;
      }
      let res: Response;
      try {
        res = await fetch("/api/auth/refresh", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ refreshToken: latest.refreshToken }),
        });
      } catch {
        throw new ApiError(0, "network", "network error");
      }
      if (!res.ok) {
        const err = await readApiError(res);
        if (res.status === 401 || res.status === 400) this.end(describeError(err));
        throw err;
      }
      this.adopt(tokensFrom(await res.json()));
    };
    if (typeof navigator !== "undefined" && navigator.locks) await navigator.locks.request(LOCK, run);
    else await run();
  }

  private adopt(tokens: Tokens): void {
    if (this.tokens && this.tokens.user.id !== tokens.user.id) {
      // Someone else logged in in another tab: nothing of this page's state is theirs.
      location.reload();
      return;
    }
    this.save(tokens);
    if (this.state.get().status !== "in") this.state.set({ status: "in", user: tokens.user });
  }

  private adoptFromStorage(): void {
    const stored = readTokens();
    if (stored) {
      this.adopt(stored);
      return;
    }
    if (!this.tokens) return;
    this.tokens = null;
    this.state.set({
      status: "out",
      ended: localStorage.getItem(ENDED_KEY) ?? "You logged out in another tab.",
    });
  }

  private save(tokens: Tokens | null): void {
    this.tokens = tokens;
    if (tokens) localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    else localStorage.removeItem(TOKENS_KEY);
  }
}

function readTokens(): Tokens | null {
  try {
    const t = JSON.parse(localStorage.getItem(TOKENS_KEY) ?? "null") as Tokens | null;
    return t?.accessToken && t.refreshToken && t.user?.id ? { ...t, skewSec: t.skewSec ?? 0 } : null;
  } catch {
    return null;
  }
}
