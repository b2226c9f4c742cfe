/**
 * Cluster peers (opt-in: `bun run bench cluster`): three nodes of each server, the clients spread
 * round-robin over them so most deliveries cross between nodes. ChatTalk: three ws-nodes on Kafka
 * (with Postgres, the MongoDB protocol and Redis presence); Centrifugo: three nodes on its Redis engine
 * (both namespaces); Socket.IO: three nodes with @socket.io/redis-adapter. Redis is the one from
 * scripts/services, with key prefixes of this run. Same workloads and clients as bench/peers.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jwtAccounts, type Layout, membership } from "./peers/accounts.ts";
import { missingServices, startChattalkCluster } from "./peers/chattalk-cluster.ts";
import { chatSection, fanoutSection, type PeersSettings } from "./peers/report.ts";
import { centrifugoBinary, type Peer, startCentrifugo, startSocketIo } from "./peers/servers.ts";
import { chat, fanout } from "./peers/workloads.ts";
import type { ServerProcess } from "./support/server-process.ts";

const TITLE = "## Cluster against peers (`bun run bench cluster`, opt-in)";
const NODES = 3;

export const SETTINGS: PeersSettings = {
  idleConnections: 0,
  fanoutMembers: 1_000,
  fanoutSenders: 4,
  fanoutWindow: 128,
  fanoutMs: 2_000,
  fanoutTrials: 3,
  chatSizes: [1_000],
  chatRate: 2_000,
  chatMs: 5_000,
  chatWarmupMs: 2_000,
  chatTrials: 3,
};

const layout: Layout = {
  users: Math.max(...SETTINGS.chatSizes, SETTINGS.fanoutMembers),
  fanoutMembers: SETTINGS.fanoutMembers,
  chatSizes: SETTINGS.chatSizes,
};

const wsUrl = (p: ServerProcess) => `ws://127.0.0.1:${p.port}`;

export default async function run(): Promise<string> {
  const absent = missingServices();
  if (absent.length > 0) {
    return [
      TITLE,
      "",
      `Skipped: ${absent.join(", ")} not set. It needs the real services:`,
      '`bash scripts/services up && eval "$(bash scripts/services env)"`, then `bun run bench cluster`.',
      "",
    ].join("\n");
  }
  const tag = `c${Date.now().toString(36)}`;
  const redisPrefix = `chattalk-bench-${tag}`;
  const workDir = mkdtempSync(join(tmpdir(), "chattalk-bench-cluster-peers-"));
  const procs: ServerProcess[] = [];
  const peers: Peer[] = [];
  const chattalk = await startChattalkCluster({ replicas: NODES, layout, tag });
  try {
    peers.push({ ...chattalk, name: `ChatTalk ×${NODES} (Kafka)` });
    const bin = await centrifugoBinary();
    if (bin) {
      const engine = {
        type: "redis",
        redis: { address: [process.env.REDIS_URL!], prefix: `${redisPrefix}-cf` },
      };
      const nodes: ServerProcess[] = [];
      for (let i = 0; i < NODES; i++)
        nodes.push(await startCentrifugo(bin, workDir, `centrifugo-${i}`, engine));
      procs.push(...nodes);
      for (const [name, ns] of [
        [`Centrifugo ×${NODES} (Redis)`, "chat"],
        [`Centrifugo ×${NODES} (Redis) +history`, "hist"],
      ] as const) {
        const accounts = await jwtAccounts(layout, (room) => `${ns}:${room}`, true);
        peers.push({ name, protocol: "centrifugo", urls: nodes.map(wsUrl), procs: nodes, accounts });
      }
    }
    const sioAccounts = await jwtAccounts(layout, (room) => room, false);
    const membersFile = join(workDir, "socketio-members.json");
    writeFileSync(membersFile, JSON.stringify(membership(layout, sioAccounts)));
    const sio: ServerProcess[] = [];
    for (let i = 0; i < NODES; i++) {
      sio.push(
        await startSocketIo(membersFile, {
          REDIS_URL: process.env.REDIS_URL!,
          REDIS_PREFIX: `${redisPrefix}-sio`,
        }),
      );
    }
    procs.push(...sio);
    peers.push({
      name: `Socket.IO ×${NODES} (redis-adapter)`,
      protocol: "socketio",
      urls: sio.map(wsUrl),
      procs: sio,
      accounts: sioAccounts,
    });

    const fanoutRuns = await fanout(peers, workDir, SETTINGS);
    const chatRuns = await chat(peers, workDir, SETTINGS);
    return [
      TITLE,
      "",
      `${NODES} nodes of each server on this one 2-core machine, the clients' connections spread round-robin over`,
      "them, so most copies cross between nodes: ChatTalk's through Kafka (acks=all; every node reads every",
      "partition; the backlog written to FerretDB), Centrifugo's through its Redis engine (PUB/SUB, and",
      "history streams for `+history`), Socket.IO's through the classic Redis adapter (Pub/Sub). Server CPU",
      "is the nodes' processes only, not Kafka's, Redis's or the databases'. Nodes on one machine measure the",
      "cost of crossing between them, not scaling (see docs/scaling.md).",
      "",
      ...fanoutSection(fanoutRuns, SETTINGS, "### Cluster W1: fan-out"),
      ...chatSection(chatRuns, SETTINGS, "### Cluster W2: chat latency"),
    ].join("\n");
  } finally {
    await Promise.allSettled(procs.map((p) => p.stop()));
    await chattalk.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(await run());
