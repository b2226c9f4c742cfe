/** The HTTP API as the browser sees it: tokens kept in localStorage, refreshed once on 401. */
export interface UserRef {
  id: string;
  username: string;
}
export interface Room {
  id: string;
  name: string;
  ownerId: string;
  maxMembers: number;
  memberCount: number;
  unreadCount?: number;
  /** Highest seq this user has seen in the room (rooms the user is a member of). */
  readPosition?: number;
}
export interface ChatMessage {
  id: string;
  roomId: string;
  seq: number;
  type: "message" | "join" | "leave";
  sender: UserRef;
  text: string;
  sentAt: string;
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
