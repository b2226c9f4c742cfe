/** The HTTP API as the browser sees it: tokens kept in localStorage, refreshed once on 401. */
import type { ChatMessage, UserRef } from "../../../lib/chat/message.ts";
import type { Room as StoredRoom } from "../../../lib/store/types.ts";

// The wire types are the server's own (type-only imports: nothing of lib/ reaches the bundle).
export type { ChatMessage, UserRef };

/** A room as GET /api/rooms lists it for a member. */
export interface Room extends StoredRoom {
  unreadCount?: number;
  /** True when unreadCount stopped at the server's cap: show "999+". */
  unreadCountCapped?: boolean;
  /** Highest seq this user has seen in the room. */
  readPosition?: number;
}

interface Session {
  user: UserRef;
  accessToken: string;
  refreshToken: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const KEY = "chattalk.session";

export class Api {
  session: Session | null = JSON.parse(localStorage.getItem(KEY) ?? "null");

  private save(s: Session | null): void {
    this.session = s;
    if (s) localStorage.setItem(KEY, JSON.stringify(s));
    else localStorage.removeItem(KEY);
  }

  async auth(mode: "login" | "signup", username: string, password: string): Promise<void> {
    this.save(await this.request<Session>("POST", `/api/auth/${mode}`, { username, password }, false));
  }

  async logout(): Promise<void> {
    const refreshToken = this.session?.refreshToken;
    await this.request("POST", "/api/auth/logout", { refreshToken }).catch(() => {});
    this.save(null);
  }

  /** A valid access token, refreshing it first if the server says it expired. */
  async freshToken(): Promise<string> {
    await this.request("GET", "/api/me");
    return this.session!.accessToken;
  }

  myRooms = () => this.request<{ rooms: Room[] }>("GET", "/api/rooms").then((r) => r.rooms);
  discover = () => this.request<{ rooms: Room[] }>("GET", "/api/rooms/discover").then((r) => r.rooms);
  createRoom = (name: string, maxMembers: number) =>
    this.request<{ room: Room }>("POST", "/api/rooms", { name, maxMembers }).then((r) => r.room);
  join = (id: string) => this.request("POST", `/api/rooms/${id}/join`);
  leave = (id: string) => this.request("POST", `/api/rooms/${id}/leave`);
  history = (id: string, before: number | null, limit = 50) =>
    this.request<{ messages: ChatMessage[] }>(
      "GET",
      `/api/rooms/${id}/messages?limit=${limit}${before === null ? "" : `&before=${before}`}`,
    ).then((r) => r.messages);

  async request<T = unknown>(method: string, path: string, body?: unknown, retry = true): Promise<T> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.session) headers.authorization = `Bearer ${this.session.accessToken}`;
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401 && retry && this.session) {
      await this.refresh();
      return this.request(method, path, body, false);
    }
    const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = (data as { error?: { code: string; message: string } }).error;
      throw new ApiError(res.status, e?.code ?? "error", e?.message ?? res.statusText);
    }
    return data as T;
  }

  private async refresh(): Promise<void> {
    try {
      const s = await this.request<Session>(
        "POST",
        "/api/auth/refresh",
        { refreshToken: this.session?.refreshToken },
        false,
      );
      this.save({ ...s, user: s.user ?? this.session!.user });
    } catch (err) {
      this.save(null);
      throw err;
    }
  }
}
