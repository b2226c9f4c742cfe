/**
 * 100,000 connections on this machine (opt-in: `bun run bench connections`). One process may hold at
 * most 20,000 open files here, so the connections are spread over several ws-node replicas (ports of
 * their own) and several client processes, each bound to a loopback source address of its own
 * (127.0.0.11, .12, …), which gives each its own range of ephemeral ports. Every connection is an
 * authenticated STOMP session with heart-beats both ways; the benchmark reports memory per
 * connection, the connect rate, and what the heart-beats cost once all are connected.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { freemem, tmpdir } from "node:os";
import { join } from "node:path";
import { chattalkAccounts } from "./peers/accounts.ts";
import type { Plan } from "./peers/plan.ts";
import { chattalkEnv } from "./peers/servers.ts";
import { fmtInt, LineChild, rssKiB } from "./support/child.ts";
import { processCpuMs } from "./support/proc-cpu.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";

const TITLE = "### 100,000 connections (`bun run bench connections`, opt-in)";
// BENCH_QUICK=1: a small run of the same path, for a quick look (not for the record).
const QUICK = process.env.BENCH_QUICK === "1";
const TOTAL = QUICK ? 6_000 : 100_000;
const NODES = QUICK ? 2 : 6;
const USERS = 200;
const HEARTBEAT_MS = 10_000;
/** How long the connected, idle cluster is watched for heart-beat costs. */
const WATCH_MS = QUICK ? 10_000 : 30_000;
const TARGET_KIB = 4;
/** Set-ups in flight per client process: a storm beyond what the replicas answer in time only times out. */
const CONNECT_PARALLEL = 16;
const CLIENTS = new URL("./peers/clients.ts", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;
const BUN = process.execPath;

function limits(): { fileHard: number; ports: number } {
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
  const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
    .trim()
    .split(/\s+/)
    .map(Number);
  return { fileHard: hard === "unlimited" ? Number.POSITIVE_INFINITY : Number(hard), ports: hi! - lo! + 1 };
}

export default async function run(): Promise<string> {
  const perNode = Math.ceil(TOTAL / NODES);
  const { fileHard, ports } = limits();
  // Machine-wide settings are not ours to change: check that these per-process limits suffice.
  const problems: string[] = [];
  if (perNode + 500 > fileHard)
    problems.push(`${fmtInt(perNode)} sockets per process exceed the open-file limit ${fileHard}`);
  if (perNode > ports)
    problems.push(`${fmtInt(perNode)} connections per source address exceed the ${ports} ephemeral ports`);
  const needMiB = (TOTAL * 16) / 1024; // server + client + kernel, generously
  if (freemem() / 2 ** 20 < needMiB)
    problems.push(`${fmtInt(freemem() / 2 ** 20)} MiB free, ~${fmtInt(needMiB)} MiB wanted`);
  if (problems.length > 0) return [TITLE, "", `Skipped: ${problems.join("; ")}.`, ""].join("\n");

  const workDir = mkdtempSync(join(tmpdir(), "chattalk-bench-100k-"));
  const nodes: ServerProcess[] = [];
  const clients: LineChild[] = [];
  try {
    // Tokens from an http-api (public entry point) on a store of its own; the ws-nodes only verify them.
    // CONNECT timeout raised: on a shared 2-core machine a connect storm of 100k can queue a CONNECT
    // for longer than the default 10 s; what is measured is the connections once made.
    const env = {
      ...chattalkEnv(join(workDir, "api")),
      MAX_CONNECTIONS_PER_USER: "10000",
      CONNECT_TIMEOUT_MS: "60000",
    };
    const api = await startServer([BUN, join(root, "apps/http-api/main.ts")], env, { healthPath: "/readyz" });
    let tokens: string[];
    try {
      const accounts = await chattalkAccounts(
        `http://127.0.0.1:${api.port}`,
        { users: USERS, fanoutMembers: 0, chatSizes: [] },
        `c${Date.now().toString(36)}x`,
      );
      tokens = accounts.tokens;
    } finally {
      await api.stop();
    }
    // Embedded adapters, a data folder each: idle sessions need no bus, and nothing else is measured.
    for (let i = 0; i < NODES; i++) {
      nodes.push(
        await startServer(
          [BUN, join(root, "apps/ws-node/main.ts")],
          { ...env, DATA_DIR: join(workDir, `node-${i}`), HEARTBEAT_MS: String(HEARTBEAT_MS) },
          { healthPath: "/readyz" },
        ),
      );
    }
    await Bun.sleep(1_000);
    const rssBefore = await Promise.all(nodes.map((n) => rssKiB(n.proc.pid)));
    const plan: Plan = {
      protocol: "stomp",
      urls: nodes.map((n) => `ws://127.0.0.1:${n.port}`),
      conns: Array.from({ length: TOTAL }, (_, i) => ({
        token: tokens[i % USERS]!,
        subs: [],
        url: Math.floor(i / perNode),
      })),
      rooms: [],
      senders: [],
      heartbeatMs: HEARTBEAT_MS,
    };
    const planFile = join(workDir, "plan.json");
    await Bun.write(planFile, JSON.stringify(plan));
    const t0 = performance.now();
    for (let k = 0; k < NODES; k++) {
      const count = Math.min(perNode, TOTAL - k * perNode);
      const args = [
        planFile,
        "--from",
        String(k * perNode),
        "--count",
        String(count),
        "--local",
        `127.0.0.${11 + k}`,
      ];
      clients.push(LineChild.spawn(CLIENTS, args));
    }
    const readies = await Promise.all(clients.map((c) => c.next("ready", 900_000)));
    const connectMs = performance.now() - t0;
    const retries = readies.reduce((a, r) => a + Number(r[2]), 0);
    await Bun.sleep(2_000);
    const rssAfter = await Promise.all(nodes.map((n) => rssKiB(n.proc.pid)));

    const stats = async () => {
      let closes = 0;
      let heartbeats = 0;
      let clientCpu = 0;
      for (const c of clients) {
        c.send("stats");
        const [cl, errors, hb, cpu] = (await c.next("stats")).map(Number);
        closes += cl! + errors!;
        heartbeats += hb!;
        clientCpu += cpu!;
      }
      return { closes, heartbeats, clientCpu };
    };
    const nodeCpu = async () =>
      (await Promise.all(nodes.map((n) => processCpuMs(n.proc.pid)))).reduce((a, b) => a + b, 0);
    const s0 = await stats();
    const cpu0 = await nodeCpu();
    await Bun.sleep(WATCH_MS);
    const cpu1 = await nodeCpu();
    const s1 = await stats();
    return report({
      perNode,
      connectMs,
      rssBefore,
      rssAfter,
      serverCpuMs: cpu1 - cpu0,
      heartbeatsIn: s1.heartbeats - s0.heartbeats,
      clientCpuMs: (s1.clientCpu - s0.clientCpu) / 1000,
      closes: s1.closes,
      retries,
      fileHard,
      ports,
    });
  } finally {
    await Promise.allSettled(clients.map((c) => c.stop(60_000)));
    await Promise.allSettled(nodes.map((n) => n.stop()));
    rmSync(workDir, { recursive: true, force: true });
  }
}

function report(r: {
  perNode: number;
  connectMs: number;
  rssBefore: number[];
  rssAfter: number[];
  serverCpuMs: number;
  heartbeatsIn: number;
  clientCpuMs: number;
  closes: number;
  retries: number;
  fileHard: number;
  ports: number;
}): string {
  const grown = r.rssAfter.reduce((a, b) => a + b, 0) - r.rssBefore.reduce((a, b) => a + b, 0);
  const perConn = grown / TOTAL;
  const rounds = WATCH_MS / HEARTBEAT_MS;
  const cpuPerRound = r.serverCpuMs / rounds;
  const mib = (k: number) => (k / 1024).toFixed(0);
  return [
    TITLE,
    "",
    `${fmtInt(TOTAL)} authenticated STOMP 1.2 sessions (CONNECT with a bearer token of one of ${USERS} users, heart-beat`,
    `0,${HEARTBEAT_MS}, no subscription) over ${NODES} \`apps/ws-node/main.ts\` replicas of ${fmtInt(r.perNode)} each (embedded`,
    `adapters, a data folder each), from ${NODES} client processes, client k bound to 127.0.0.${11}+k and connected to replica k.`,
    `Why so many processes: the open-file limit is ${fmtInt(r.fileHard)} per process here (hard, not raised), and one source`,
    `address has ${fmtInt(r.ports)} ephemeral ports (net.ipv4.ip_local_port_range, left as it is). Memory: 24 GiB; no machine-wide`,
    "setting was changed. The server sends a heart-beat each interval; every client sends one too (spread over",
    "the interval; declared as 0 so that a beat late on this loaded machine closes nothing) and counts the",
    `server's; the ${WATCH_MS / 1000} s after all are connected are watched. Each client process keeps ${CONNECT_PARALLEL} set-ups in`,
    "flight, and the replicas allow 60 s for a CONNECT (CONNECT_TIMEOUT_MS; 10 s by default), as a connect storm",
    "on a shared 2-core machine can queue one for longer.",
    "",
    "| measure | value |",
    "| --- | ---: |",
    `| connections established (all processes in parallel) | ${fmtInt(TOTAL)} in ${(r.connectMs / 1000).toFixed(1)} s = ${fmtInt(TOTAL / (r.connectMs / 1000))}/s |`,
    `| replicas' RSS before → after | ${mib(r.rssBefore.reduce((a, b) => a + b, 0))} → ${mib(r.rssAfter.reduce((a, b) => a + b, 0))} MiB |`,
    `| RSS per connection (replicas' growth / connections) | ${perConn.toFixed(2)} KiB |`,
    `| server heart-beats received by the clients in ${WATCH_MS / 1000} s | ${fmtInt(r.heartbeatsIn)} (expected ${fmtInt((TOTAL * WATCH_MS) / HEARTBEAT_MS)}) |`,
    `| replicas' CPU while idle with heart-beats (${fmtInt((TOTAL * 2) / (HEARTBEAT_MS / 1000))} heart-beats/s both ways) | ${((r.serverCpuMs / WATCH_MS) * 100).toFixed(1)}% of a core |`,
    `| replicas' CPU per heart-beat round (every connection, both ways, once) | ${fmtInt(cpuPerRound)} ms |`,
    `| replicas' CPU per heart-beat (one sent and one received) | ${((r.serverCpuMs * 1000) / (TOTAL * rounds)).toFixed(1)} µs |`,
    `| clients' CPU over the watch | ${((r.clientCpuMs / WATCH_MS) * 100).toFixed(1)}% of a core |`,
    `| set-ups retried (refused or timed out under the storm, then made) | ${fmtInt(r.retries)} |`,
    `| connections closed once made | ${r.closes} |`,
    "",
    `**${fmtInt(TOTAL)} connections at ${perConn.toFixed(2)} KiB each (target ≤ ${TARGET_KIB} KiB: ${
      perConn <= TARGET_KIB ? "met" : "missed"
    }); a heart-beat round over all of them costs ${fmtInt(cpuPerRound)} ms of CPU across the replicas.**`,
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await run());
