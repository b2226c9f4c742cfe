/** What a peers-benchmark client process opens and does, written by the parent as JSON. */
import { ROOM_SIZE } from "./accounts.ts";
import type { ConnSpec, ProtocolName } from "./protocols.ts";
import type { Peer } from "./servers.ts";

export interface Plan {
  protocol: ProtocolName;
  /** ws:// URLs of the server (several for a cluster); connection i uses urls[conn.url ?? i % n]. */
  urls: string[];
  conns: ConnSpec[];
  /** Rooms of the chat workload: their channel and the connections subscribed to it (all send). */
  rooms: { channel: string; members: number[] }[];
  /** Connections that publish in the fan-out workload (they are subscribers too). */
  senders: number[];
  /** STOMP heart-beats at this interval: asked of the server, and sent by every client (0 or absent: none). */
  heartbeatMs?: number;
}

/** Every fan-out member subscribed to the one room; the first `senders` of them also publish. */
export async function fanoutPlan(peer: Peer, members: number, senders: number): Promise<Plan> {
  const { accounts } = peer;
  const channel = accounts.fanoutChannel;
  const conns = await Promise.all(
    Array.from({ length: members }, async (_, i) => ({
      token: accounts.tokens[i]!,
      subs: [{ channel, token: await accounts.subToken(i, channel) }],
    })),
  );
  const all = Array.from({ length: members }, (_, i) => i);
  return {
    protocol: peer.protocol,
    urls: peer.urls,
    conns,
    rooms: [{ channel, members: all }],
    senders: all.slice(0, senders),
  };
}

/** One connection per member of the chat rooms of `size` members, each subscribed to its room. */
export async function chatPlan(peer: Peer, size: number): Promise<Plan> {
  const { accounts } = peer;
  const channels = accounts.chatChannels.get(size)!;
  const conns = await Promise.all(
    Array.from({ length: size }, async (_, i) => {
      const channel = channels[Math.floor(i / ROOM_SIZE)]!;
      return { token: accounts.tokens[i]!, subs: [{ channel, token: await accounts.subToken(i, channel) }] };
    }),
  );
  const rooms = channels.map((channel, k) => ({
    channel,
    members: Array.from({ length: ROOM_SIZE }, (_, j) => k * ROOM_SIZE + j),
  }));
  return { protocol: peer.protocol, urls: peer.urls, conns, rooms, senders: [] };
}

/** `count` authenticated connections with no subscription, users taken round-robin. */
export function idlePlan(peer: Peer, count: number): Plan {
  const { tokens } = peer.accounts;
  const conns = Array.from({ length: count }, (_, i) => ({ token: tokens[i % tokens.length]!, subs: [] }));
  return { protocol: peer.protocol, urls: peer.urls, conns, rooms: [], senders: [] };
}
