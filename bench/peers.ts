/**
 * Peers benchmark: ChatTalk against Centrifugo (plain, and with history + recovery + presence, the
 * like-for-like one), Socket.IO and a bare Bun.serve, on three workloads, servers alternated within
 * one run, every client counting every copy it receives:
 *   W3 idle: 10,000 authenticated connections, resident memory per connection;
 *   W1 fan-out: 1 room, 1,000 subscribers (1,000 distinct users), real publishes with acknowledgement;
 *   W2 chat: rooms of 5 members at 2,000 messages/s in all, at 200, 1,000 and 5,000 members.
 * Each server is its own process; clients live in one child process per server
 * (bench/peers/clients.ts). BENCH_PEERS=idle,fanout,chat picks workloads (default: all);
 * BENCH_QUICK=1 shrinks every workload for a quick look (not for the record); BENCH_ONLY=ChatTalk,bare
 * runs only the named servers; BENCH_CHAT_SIZES=1000 picks the chat sizes; BENCH_PROFILE=<dir> has
 * ChatTalk write a CPU profile there (summarise it with bench/support/cpu-profile.ts);
 * BENCH_LATENCY_DUMP=<file> has the chat clients write every copy's latency (bench/support/latency-dump.ts,
 * read with bench/support/tail-episodes.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Layout } from "./peers/accounts.ts";
import { type PeersSettings, peersReport } from "./peers/report.ts";
import { startPeers } from "./peers/servers.ts";
import { chat, fanout, idle } from "./peers/workloads.ts";

export const SETTINGS: PeersSettings = {
  idleConnections: 10_000,
  fanoutMembers: 1_000,
  fanoutSenders: 4,
  /** Messages in flight (published, not yet at every subscriber). */
  fanoutWindow: 128,
  fanoutMs: 2_000,
  fanoutTrials: 5,
  chatSizes: [200, 1_000, 5_000],
  chatRate: 2_000,
  chatMs: 5_000,
  chatWarmupMs: 2_000,
  chatTrials: 3,
};
if (process.env.BENCH_QUICK === "1") {
  Object.assign(SETTINGS, {
    idleConnections: 1_000,
    fanoutTrials: 2,
    fanoutMs: 1_000,
    chatSizes: [200],
    chatMs: 2_000,
    chatWarmupMs: 500,
    chatTrials: 2,
  });
}
if (process.env.BENCH_CHAT_SIZES) SETTINGS.chatSizes = process.env.BENCH_CHAT_SIZES.split(",").map(Number);

const layout: Layout = {
  users: Math.max(...SETTINGS.chatSizes, SETTINGS.fanoutMembers),
  fanoutMembers: SETTINGS.fanoutMembers,
  chatSizes: SETTINGS.chatSizes,
};

export default async function run(): Promise<string> {
  const wanted = new Set((process.env.BENCH_PEERS ?? "idle,fanout,chat").split(","));
  const workDir = mkdtempSync(join(tmpdir(), "chattalk-bench-plans-"));
  const set = await startPeers(layout);
  const only = process.env.BENCH_ONLY?.split(",");
  if (only)
    set.peers.splice(0, set.peers.length, ...set.peers.filter((p) => only.some((o) => p.name.includes(o))));
  try {
    const idleRuns = wanted.has("idle") ? await idle(set.peers, workDir, SETTINGS) : [];
    const fanoutRuns = wanted.has("fanout") ? await fanout(set.peers, workDir, SETTINGS) : [];
    const chatRuns = wanted.has("chat") ? await chat(set.peers, workDir, SETTINGS) : [];
    return peersReport({ idle: idleRuns, fanout: fanoutRuns, chat: chatRuns }, SETTINGS);
  } finally {
    await set.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(await run());
