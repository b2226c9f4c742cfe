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
 * runs only the named servers; BENCH_PROFILE=<dir> has ChatTalk write a CPU profile there.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Layout } from "./peers/accounts.ts";
import { chatPlan, fanoutPlan, idlePlan, type Plan } from "./peers/plan.ts";
import {
  type ChatRun,
  type ChatStepResult,
  type FanoutRun,
  type FanoutTrial,
  type IdleRun,
  type PeersSettings,
  peersReport,
} from "./peers/report.ts";
import { type Peer, startPeers } from "./peers/servers.ts";
import { settle } from "./peers/settle.ts";
import { LineChild, rssKiB } from "./support/child.ts";
import { processCpuMs } from "./support/proc-cpu.ts";

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

const CLIENTS = new URL("./peers/clients.ts", import.meta.url).pathname;
const layout: Layout = {
  users: Math.max(...SETTINGS.chatSizes, SETTINGS.fanoutMembers),
  fanoutMembers: SETTINGS.fanoutMembers,
  chatSizes: SETTINGS.chatSizes,
};

/** Distinct server processes (the two Centrifugo variants share one). */
function processes(peers: Peer[]): Peer[] {
  const seen = new Set<number>();
  return peers.filter((p) => {
    const pid = p.procs[0]!.proc.pid;
    if (seen.has(pid)) return false;
    seen.add(pid);
    return true;
  });
}

const serverCpuMs = async (peer: Peer) => {
  let sum = 0;
  for (const p of peer.procs) sum += await processCpuMs(p.proc.pid);
  return sum;
};
const serverRssKiB = async (peer: Peer) => {
  let sum = 0;
  for (const p of peer.procs) sum += await rssKiB(p.proc.pid);
  return sum;
};

async function clientsFor(plan: Plan, workDir: string, name: string): Promise<LineChild> {
  const file = join(workDir, `${name}.json`);
  await Bun.write(file, JSON.stringify(plan));
  const child = LineChild.spawn(CLIENTS, [file]);
  await child.next("ready", 300_000);
  return child;
}

async function idle(peers: Peer[], workDir: string): Promise<IdleRun[]> {
  const out: IdleRun[] = [];
  for (const peer of processes(peers)) {
    await Bun.sleep(1_000);
    const before = await serverRssKiB(peer);
    const t0 = performance.now();
    const clients = await clientsFor(idlePlan(peer, SETTINGS.idleConnections), workDir, "idle");
    const connectMs = performance.now() - t0;
    try {
      await Bun.sleep(2_000);
      const after = await serverRssKiB(peer);
      clients.send("stats");
      const [closes, errors] = (await clients.next("stats")).map(Number);
      out.push({ peer: peer.name, beforeKiB: before, afterKiB: after, connectMs, closes: closes! + errors! });
    } finally {
      await clients.stop(20_000);
    }
  }
  return out;
}

/** Runs `trial` for each peer in turn, rotating the order each round so none always follows the same one. */
async function alternate<T>(
  peers: Peer[],
  rounds: number,
  trial: (peer: Peer, index: number) => Promise<T>,
): Promise<T[][]> {
  const results: T[][] = peers.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < peers.length; k++) {
      const i = (r + k) % peers.length;
      results[i]!.push(await trial(peers[i]!, i));
    }
  }
  return results;
}

async function fanout(peers: Peer[], workDir: string): Promise<FanoutRun[]> {
  const clients: LineChild[] = [];
  try {
    for (const peer of peers) {
      const plan = await fanoutPlan(peer, SETTINGS.fanoutMembers, SETTINGS.fanoutSenders);
      clients.push(await clientsFor(plan, workDir, `fanout-${clients.length}`));
    }
    for (const c of clients) await settle(c, 20);
    const trial = async (peer: Peer, i: number) => {
      const cpu0 = await serverCpuMs(peer);
      clients[i]!.send(`fanout ${SETTINGS.fanoutMs} ${SETTINGS.fanoutWindow}`);
      const r = (await clients[i]!.next("fanout", 120_000)).map(Number) as number[];
      const cpuMs = (await serverCpuMs(peer)) - cpu0;
      const [sent, acked, delivered, expected, ms, bytes, clientCpu, errors] = r;
      return {
        sent,
        acked,
        delivered,
        expected,
        ms,
        bytes,
        clientCpu,
        errors,
        serverCpuMs: cpuMs,
      } as FanoutTrial;
    };
    await alternate(peers, 1, trial); // warm-up
    const results = await alternate(peers, SETTINGS.fanoutTrials, trial);
    return peers.map((p, i) => ({ peer: p.name, trials: results[i]! }));
  } finally {
    await Promise.allSettled(clients.map((c) => c.stop(20_000)));
  }
}

async function chat(peers: Peer[], workDir: string): Promise<ChatRun[]> {
  const out: ChatRun[] = [];
  for (const size of SETTINGS.chatSizes) {
    const clients: LineChild[] = [];
    try {
      for (const peer of peers)
        clients.push(await clientsFor(await chatPlan(peer, size), workDir, `chat-${clients.length}`));
      const step = async (peer: Peer, i: number, ms: number) => {
        const cpu0 = await serverCpuMs(peer);
        const t0 = performance.now();
        clients[i]!.send(`chat ${SETTINGS.chatRate} ${ms}`);
        const r = (await clients[i]!.next("chat", ms + 60_000)).map(Number) as number[];
        const cpuPercent = (((await serverCpuMs(peer)) - cpu0) / (performance.now() - t0)) * 100;
        const [sent, acked, expected, received, duplicates, p50, p99, max, errors] = r;
        return {
          sent,
          acked,
          expected,
          received,
          duplicates,
          p50,
          p99,
          max,
          errors,
          cpuPercent,
        } as ChatStepResult;
      };
      for (const c of clients) await settle(c, 200);
      await alternate(peers, 1, (p, i) => step(p, i, SETTINGS.chatWarmupMs));
      const results = await alternate(peers, SETTINGS.chatTrials, (p, i) => step(p, i, SETTINGS.chatMs));
      for (const [i, p] of peers.entries()) out.push({ peer: p.name, members: size, steps: results[i]! });
    } finally {
      await Promise.allSettled(clients.map((c) => c.stop(20_000)));
    }
  }
  return out;
}

export default async function run(): Promise<string> {
  const wanted = new Set((process.env.BENCH_PEERS ?? "idle,fanout,chat").split(","));
  const workDir = mkdtempSync(join(tmpdir(), "chattalk-bench-plans-"));
  const set = await startPeers(layout);
  const only = process.env.BENCH_ONLY?.split(",");
  if (only)
    set.peers.splice(0, set.peers.length, ...set.peers.filter((p) => only.some((o) => p.name.includes(o))));
  try {
    const idleRuns = wanted.has("idle") ? await idle(set.peers, workDir) : [];
    const fanoutRuns = wanted.has("fanout") ? await fanout(set.peers, workDir) : [];
    const chatRuns = wanted.has("chat") ? await chat(set.peers, workDir) : [];
    return peersReport({ idle: idleRuns, fanout: fanoutRuns, chat: chatRuns }, SETTINGS);
  } finally {
    await set.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(await run());
