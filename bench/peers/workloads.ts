/**
 * The peers benchmark's workloads, run against any set of peers (single servers or clusters), each
 * peer's clients in a child process of their own (bench/peers/clients.ts), servers alternated.
 */
import { join } from "node:path";
import { LineChild, rssKiB } from "../support/child.ts";
import { processCpuMs } from "../support/proc-cpu.ts";
import { chatPlan, fanoutPlan, idlePlan, type Plan } from "./plan.ts";
import type { ChatRun, ChatStepResult, FanoutRun, FanoutTrial, IdleRun, PeersSettings } from "./report.ts";
import type { Peer } from "./servers.ts";
import { settle } from "./settle.ts";

const CLIENTS = new URL("./clients.ts", import.meta.url).pathname;

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

export const serverCpuMs = async (peer: Peer) => {
  let sum = 0;
  for (const p of peer.procs) sum += await processCpuMs(p.proc.pid);
  return sum;
};
const serverRssKiB = async (peer: Peer) => {
  let sum = 0;
  for (const p of peer.procs) sum += await rssKiB(p.proc.pid);
  return sum;
};

export async function clientsFor(plan: Plan, workDir: string, name: string): Promise<LineChild> {
  const file = join(workDir, `${name}.json`);
  await Bun.write(file, JSON.stringify(plan));
  const child = LineChild.spawn(CLIENTS, [file]);
  await child.next("ready", 300_000);
  return child;
}

export async function idle(peers: Peer[], workDir: string, s: PeersSettings): Promise<IdleRun[]> {
  const out: IdleRun[] = [];
  for (const peer of processes(peers)) {
    await Bun.sleep(1_000);
    const before = await serverRssKiB(peer);
    const t0 = performance.now();
    const clients = await clientsFor(idlePlan(peer, s.idleConnections), workDir, "idle");
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
export async function alternate<T>(
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

export async function fanout(peers: Peer[], workDir: string, s: PeersSettings): Promise<FanoutRun[]> {
  const clients: LineChild[] = [];
  try {
    for (const peer of peers) {
      const plan = await fanoutPlan(peer, s.fanoutMembers, s.fanoutSenders);
      clients.push(await clientsFor(plan, workDir, `fanout-${clients.length}`));
    }
    for (const c of clients) await settle(c, 20);
    const trial = async (peer: Peer, i: number) => {
      const cpu0 = await serverCpuMs(peer);
      clients[i]!.send(`fanout ${s.fanoutMs} ${s.fanoutWindow}`);
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
    const results = await alternate(peers, s.fanoutTrials, trial);
    return peers.map((p, i) => ({ peer: p.name, trials: results[i]! }));
  } finally {
    await Promise.allSettled(clients.map((c) => c.stop(20_000)));
  }
}

export async function chat(peers: Peer[], workDir: string, s: PeersSettings): Promise<ChatRun[]> {
  const out: ChatRun[] = [];
  for (const size of s.chatSizes) {
    const clients: LineChild[] = [];
    try {
      for (const peer of peers)
        clients.push(await clientsFor(await chatPlan(peer, size), workDir, `chat-${clients.length}`));
      const step = async (peer: Peer, i: number, ms: number) => {
        const cpu0 = await serverCpuMs(peer);
        const t0 = performance.now();
        clients[i]!.send(`chat ${s.chatRate} ${ms}`);
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
      await alternate(peers, 1, (p, i) => step(p, i, s.chatWarmupMs));
      const results = await alternate(peers, s.chatTrials, (p, i) => step(p, i, s.chatMs));
      for (const [i, p] of peers.entries()) out.push({ peer: p.name, members: size, steps: results[i]! });
    } finally {
      await Promise.allSettled(clients.map((c) => c.stop(20_000)));
    }
  }
  return out;
}
