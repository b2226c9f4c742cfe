import type { ChatMessage, UserRef } from "../../../../lib/chat/message.ts";
import type {
  Ban,
  Member,
  Room,
  RoomChanges,
  UserSettings as Settings,
} from "../../../../lib/store/types.ts";
import { ApiError } from "./errors.ts";
import { readApiError, type Session, type Tokens, tokensFrom } from "./session.ts";

// The wire types are the server's own (type-only imports: nothing of lib/ reaches the bundle).
export type { Ban, ChatMessage, Member, Room, RoomChanges, Settings, UserRef };

/** A room as GET /api/rooms and the live room list give it to a member. */
export type MyRoom = Room & {
  /** Highest seq this user has seen in the room. */
  readPosition: number;
  unreadCount: number;
  /** The room's highest seq (0 when empty); not known for a room this tab has just joined. */
  lastSeq?: number;
  /** DMs: the other person. */
  peer?: UserRef;
};

export type HistoryQuery = { before: number } | { after: number } | { latest: true };

/**
 * The HTTP API as the browser uses it. Every call carries a fresh access token; a 401 because the
 * token expired or was replaced refreshes once (shared with every other caller) and retries.
 */
export class Api {
  constructor(private readonly session: Session) {}

  async auth(mode: "login" | "signup", username: string, password: string): Promise<Tokens> {
    const res = await send("POST", `/api/auth/${mode}`, { username, password });
    if (!res.ok) throw await readApiError(res);
    return tokensFrom(await res.json());
  }

  myRooms = () => this.call<{ rooms: MyRoom[] }>("GET", "/api/rooms").then((r) => r.rooms);
  discover = () => this.call<{ rooms: Room[] }>("GET", "/api/rooms/discover?limit=100").then((r) => r.rooms);
  room = (id: string) => this.call<{ room: Room; isMember: boolean }>("GET", `/api/rooms/${id}`);
  members = (id: string) =>
    this.call<{ members: Member[] }>("GET", `/api/rooms/${id}/members`).then((r) => r.members);
  createRoom = (name: string, maxMembers: number) =>
    this.call<{ room: Room }>("POST", "/api/rooms", { name, maxMembers }).then((r) => r.room);
  join = (id: string) => this.call<{ room: Room }>("POST", `/api/rooms/${id}/join`).then((r) => r.room);
  leave = (id: string) => this.call<void>("POST", `/api/rooms/${id}/leave`);
  deleteRoom = (id: string) => this.call<void>("DELETE", `/api/rooms/${id}`);

  // Room admin (owner only)
  updateRoom = (id: string, changes: RoomChanges) =>
    this.call<{ room: Room }>("PATCH", `/api/rooms/${id}`, changes).then((r) => r.room);
  removeMember = (id: string, userId: string) =>
    this.call<void>("DELETE", `/api/rooms/${id}/members/${userId}`);
  ban = (id: string, userId: string) => this.call<void>("POST", `/api/rooms/${id}/bans`, { userId });
  unban = (id: string, userId: string) => this.call<void>("DELETE", `/api/rooms/${id}/bans/${userId}`);
  bans = (id: string) => this.call<{ bans: Ban[] }>("GET", `/api/rooms/${id}/bans`).then((r) => r.bans);
  transfer = (id: string, userId: string) =>
    this.call<{ room: Room }>("POST", `/api/rooms/${id}/owner`, { userId }).then((r) => r.room);
  createInvite = (id: string) =>
    this.call<{ token: string; expiresAt: string }>("POST", `/api/rooms/${id}/invites`, {});
  revokeInvites = (id: string) => this.call<void>("DELETE", `/api/rooms/${id}/invites`);
  acceptInvite = (token: string) =>
    this.call<{ room: Room }>("POST", "/api/invites/accept", { token }).then((r) => r.room);

  // Messages
  editMessage = (id: string, seq: number, text: string) =>
    this.call<unknown>("PATCH", `/api/rooms/${id}/messages/${seq}`, { text });
  deleteMessage = (id: string, seq: number) =>
    this.call<unknown>("DELETE", `/api/rooms/${id}/messages/${seq}`);

  // People, DMs, the account
  searchUsers = (prefix: string) =>
    this.call<{ users: UserRef[] }>("GET", `/api/users?prefix=${encodeURIComponent(prefix)}&limit=10`).then(
      (r) => r.users,
    );
  openDm = (userId: string) =>
    this.call<{ room: MyRoom; created: boolean }>("POST", "/api/dms", { userId }).then((r) => r.room);
  settings = () => this.call<Settings>("GET", "/api/me/settings");
  updateSettings = (s: Partial<Settings>) => this.call<Settings>("PATCH", "/api/me/settings", s);
  deleteAccount = (password: string) => this.call<void>("DELETE", "/api/me", { password });

  history(id: string, q: HistoryQuery, limit: number): Promise<ChatMessage[]> {
    const where = "before" in q ? `&before=${q.before}` : "after" in q ? `&after=${q.after}` : "";
    return this.call<{ messages: ChatMessage[] }>(
      "GET",
      `/api/rooms/${id}/messages?limit=${limit}${where}`,
    ).then((r) => r.messages);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let token = await this.session.accessToken();
    let res = await send(method, path, body, token);
    if (res.status === 401) {
      const err = await readApiError(res);
      if (err.code !== "token_expired" && err.code !== "token_invalid") throw err;
      await this.session.refresh(token);
      token = await this.session.accessToken();
      res = await send(method, path, body, token);
    }
    if (!res.ok) throw await readApiError(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }
}

async function send(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "network error");
  }
}
