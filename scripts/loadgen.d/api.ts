/**
 * The HTTP API as a client sees it (docs/protocol.md §1): sign-up or log-in, rooms, membership and
 * history. Rate limits (429, from the app or from nginx) are waited out and retried: a load generator
 * against a real deployment meets them, and they are counted, not fatal.
 */

export interface Account {
  id: string;
  username: string;
  token: string;
}

export interface HistoryMessage {
  seq: number;
  type: string;
  text: string;
}

export class Api {
  /** 429 answers waited out, by path kind. */
  readonly throttled = new Map<string, number>();

  constructor(
    readonly base: string,
    private readonly attempts = 60,
  ) {}

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; json: T }> {
    const kind = path.replace(/\/[0-9a-f-]{36}/g, "/:id").replace(/\?.*$/, "");
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.base}${path}`, {
          method,
          headers: {
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        if (attempt >= this.attempts) throw new Error(`${method} ${path}: ${String(err)}`);
        await Bun.sleep(Math.min(5_000, 200 * attempt));
        continue;
      }
      const retryable = res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504;
      if (retryable && attempt < this.attempts) {
        if (res.status === 429) this.throttled.set(kind, (this.throttled.get(kind) ?? 0) + 1);
        const after = Number(res.headers.get("retry-after"));
        await res.arrayBuffer();
        await Bun.sleep(
          Number.isFinite(after) && after > 0 ? Math.min(after, 30) * 1000 : Math.min(5_000, 250 * attempt),
        );
        continue;
      }
      const text = await res.text();
      let json: T;
      try {
        json = JSON.parse(text) as T;
      } catch {
        throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
      }
      return { status: res.status, json };
    }
  }

  /** Signs up, or logs in when the name is taken (a rerun with the same user names). */
  async account(username: string, password: string): Promise<Account> {
    type AuthReply = { user: { id: string; username: string }; accessToken: string };
    const up = await this.call<AuthReply>("POST", "/api/auth/signup", { username, password });
    if (up.status === 201) return { id: up.json.user.id, username, token: up.json.accessToken };
    if (up.status !== 409) throw new Error(`sign-up ${username}: ${up.status} ${JSON.stringify(up.json)}`);
    const login = await this.call<AuthReply>("POST", "/api/auth/login", { username, password });
    if (login.status !== 200)
      throw new Error(`login ${username}: ${login.status} ${JSON.stringify(login.json)}`);
    return { id: login.json.user.id, username, token: login.json.accessToken };
  }

  async createRoom(owner: Account, name: string, maxMembers: number): Promise<string> {
    const r = await this.call<{ room: { id: string } }>(
      "POST",
      "/api/rooms",
      { name, maxMembers },
      owner.token,
    );
    if (r.status !== 201 && r.status !== 200)
      throw new Error(`create room: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json.room.id;
  }

  async join(roomId: string, member: Account): Promise<void> {
    const r = await this.call<{ error?: { code: string } }>(
      "POST",
      `/api/rooms/${roomId}/join`,
      undefined,
      member.token,
    );
    // 409 without room_full: already a member (a rerun with the same names).
    if (r.status < 300 || (r.status === 409 && r.json.error?.code !== "room_full")) return;
    throw new Error(`join: ${r.status} ${JSON.stringify(r.json)}`);
  }

  /** The room's whole history, oldest first, paging forward. */
  async history(roomId: string, member: Account): Promise<HistoryMessage[]> {
    const out: HistoryMessage[] = [];
    for (let after = 0; ; ) {
      const r = await this.call<{ messages: HistoryMessage[] }>(
        "GET",
        `/api/rooms/${roomId}/messages?after=${after}&limit=100`,
        undefined,
        member.token,
      );
      if (r.status !== 200) throw new Error(`history: ${r.status} ${JSON.stringify(r.json)}`);
      out.push(...r.json.messages);
      if (r.json.messages.length < 100) return out;
      after = r.json.messages.at(-1)!.seq;
    }
  }
}
