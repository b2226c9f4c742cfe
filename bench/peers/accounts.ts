/**
 * Users, rooms and credentials for the peers benchmark, made the way each server wants them:
 * ChatTalk's through its public HTTP API (sign-up, create room, join), the peers' as JWTs signed with
 * the shared secret (Centrifugo: a connection token and a subscription token per channel; Socket.IO: a
 * connection token, with room membership in a file its server loads).
 */
import { SignJWT } from "jose";

export const JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256!";
const key = new TextEncoder().encode(JWT_SECRET);

/** Who is in what: user i of `users`; the fan-out room (if fanoutMembers > 1) holds users [0, fanout); chat rooms of 5. */
export interface Layout {
  users: number;
  fanoutMembers: number;
  /** Members of each chat size (rooms of ROOM_SIZE consecutive users from user 0). */
  chatSizes: number[];
}

export const ROOM_SIZE = 5;

export interface Accounts {
  /** Connection credential of each user. */
  tokens: string[];
  userIds: string[];
  fanoutChannel: string;
  /** Channel of each chat room, per size. */
  chatChannels: Map<number, string[]>;
  /** Centrifugo's subscription token for (user, channel); undefined where none is needed. */
  subToken(user: number, channel: string): Promise<string | undefined>;
}

const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("1d").sign(key);

/** Runs `task` for 0..n-1 with at most `parallel` at once. */
async function each(n: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
}

/** Room names shared by the peers: `f` for the fan-out room, `c<size>-<k>` for chat rooms. */
function roomNames(layout: Layout): { fanout: string; chat: Map<number, string[]> } {
  const chat = new Map<number, string[]>();
  for (const size of layout.chatSizes) {
    chat.set(
      size,
      Array.from({ length: size / ROOM_SIZE }, (_, k) => `c${size}-${k}`),
    );
  }
  return { fanout: "f", chat };
}

/** Accounts for servers that take a JWT for anyone (Centrifugo, Socket.IO, the bare server). */
export async function jwtAccounts(
  layout: Layout,
  channelOf: (room: string) => string,
  withSubTokens: boolean,
): Promise<Accounts> {
  const names = roomNames(layout);
  const userIds = Array.from({ length: layout.users }, (_, i) => `u${i}`);
  const tokens = await Promise.all(userIds.map((sub) => sign({ sub, name: sub })));
  const chatChannels = new Map([...names.chat].map(([size, rooms]) => [size, rooms.map(channelOf)]));
  return {
    tokens,
    userIds,
    fanoutChannel: channelOf(names.fanout),
    chatChannels,
    subToken: async (user, channel) => (withSubTokens ? sign({ sub: userIds[user], channel }) : undefined),
  };
}

/** Room membership as the Socket.IO server checks it: room name → member user ids. */
export function membership(layout: Layout, accounts: Accounts): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  out[accounts.fanoutChannel] = accounts.userIds.slice(0, layout.fanoutMembers);
  for (const [, channels] of accounts.chatChannels) {
    channels.forEach((channel, k) => {
      out[channel] = accounts.userIds.slice(k * ROOM_SIZE, (k + 1) * ROOM_SIZE);
    });
  }
  return out;
}

async function api<T>(base: string, path: string, body: unknown, token?: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.ok) return (await res.json()) as T;
    // 503 busy: the password pool is full; it says when to come back.
    if (res.status === 503 && attempt < 20) {
      await Bun.sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
      continue;
    }
    throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  }
}

/** ChatTalk accounts through its HTTP API at `base` (http://host:port). */
export async function chattalkAccounts(base: string, layout: Layout, tag: string): Promise<Accounts> {
  const tokens: string[] = new Array(layout.users);
  const userIds: string[] = new Array(layout.users);
  await each(layout.users, 8, async (i) => {
    const res = await api<{ accessToken: string; user: { id: string } }>(base, "/api/auth/signup", {
      username: `${tag}${i}`,
      password: "bench-password",
    });
    tokens[i] = res.accessToken;
    userIds[i] = res.user.id;
  });
  const room = async (owner: number, members: number[], maxMembers: number) => {
    const { room } = await api<{ room: { id: string } }>(
      base,
      "/api/rooms",
      { name: `bench ${owner}`, maxMembers },
      tokens[owner],
    );
    await each(members.length, 8, (k) => api(base, `/api/rooms/${room.id}/join`, {}, tokens[members[k]!]));
    return `/topic/rooms/${room.id}`;
  };
  const fanoutChannel =
    layout.fanoutMembers > 1
      ? await room(
          0,
          Array.from({ length: layout.fanoutMembers - 1 }, (_, i) => i + 1),
          layout.fanoutMembers,
        )
      : "";
  const chatChannels = new Map<number, string[]>();
  for (const size of layout.chatSizes) {
    const channels: string[] = new Array(size / ROOM_SIZE);
    await each(size / ROOM_SIZE, 8, async (k) => {
      const first = k * ROOM_SIZE;
      const rest = Array.from({ length: ROOM_SIZE - 1 }, (_, j) => first + 1 + j);
      channels[k] = await room(first, rest, ROOM_SIZE);
    });
    chatChannels.set(size, channels);
  }
  return { tokens, userIds, fanoutChannel, chatChannels, subToken: async () => undefined };
}
