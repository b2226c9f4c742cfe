/**
 * The servers of the peers benchmark, each a process of its own on a loopback port: ChatTalk (the
 * whole `apps/main.ts`, embedded adapters), Centrifugo (one process, two namespaces: plain, and with
 * history, recovery and presence like ChatTalk), Socket.IO on Node.js, and the bare Bun server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type ServerProcess, startServer } from "../support/server-process.ts";
import {
  type Accounts,
  chattalkAccounts,
  JWT_SECRET,
  jwtAccounts,
  type Layout,
  membership,
} from "./accounts.ts";
import type { ProtocolName } from "./protocols.ts";

const root = new URL("../..", import.meta.url).pathname;
const BUN = process.execPath;

export interface Peer {
  name: string;
  protocol: ProtocolName;
  /** ws://host:port of each server process it is spread over. */
  urls: string[];
  /** Its server processes (shared by the two Centrifugo variants). */
  procs: ServerProcess[];
  accounts: Accounts;
}

export interface PeerSet {
  peers: Peer[];
  stop(): Promise<void>;
}

/** Centrifugo's binary from scripts/peers, or undefined when it is not installed. */
export async function centrifugoBinary(): Promise<string | undefined> {
  const proc = Bun.spawn(["bash", join(root, "scripts/peers"), "path", "centrifugo"], { stdout: "pipe" });
  const out = (await new Response(proc.stdout).text()).trim();
  return (await proc.exited) === 0 && out ? out : undefined;
}

/** ChatTalk's settings for the benchmark: limits a load test would trip raised, cheap set-up hashes. */
/**
 * Embedded adapters whatever this shell exports: the real services' shared defaults (topic
 * chattalk.rooms, database chattalk) are never a benchmark's. An empty setting means unset.
 */
export const EMBEDDED = { KAFKA_BROKERS: "", DATABASE_URL: "", MONGO_URL: "", REDIS_URL: "" };

export function chattalkEnv(dataDir: string): Record<string, string> {
  return {
    ...EMBEDDED,
    DATA_DIR: dataDir,
    JWT_SECRET,
    LOG_LEVEL: "warn",
    ACCESS_TOKEN_TTL_SEC: "86400",
    SEND_RATE_PER_SEC: "100000",
    SEND_BURST: "100000",
    SIGNUP_IP_BURST: "100000",
    SIGNUP_IP_REFILL_SEC: "0.001",
    // Every client is on this machine's one address, and the set-up makes thousands of rooms and joins.
    WS_MAX_CONNECTIONS: "1000000",
    WS_MAX_CONNECTIONS_PER_IP: "1000000",
    HTTP_MAX_REQUESTS_IN_FLIGHT_PER_IP: "1000000",
    ACTION_IP_BURST: "100000",
    ACTION_IP_REFILL_SEC: "0.001",
    ROOM_ACTION_BURST: "100000",
    ROOM_CREATE_BURST: "100000",
    // Only the set-up signs users up; no workload measures password hashing.
    PASSWORD_MEMORY_KIB: "1024",
    PASSWORD_TIME_COST: "1",
    PASSWORD_QUEUE_LIMIT: "10000",
  };
}

/** Centrifugo's configuration: JWT auth, warn logs, no usage stats, loopback only. */
export function centrifugoConfig(port: number, engine: Record<string, unknown> = { type: "memory" }) {
  return {
    http_server: { address: "127.0.0.1", port },
    log: { level: "warn" },
    usage_stats: { disabled: true },
    health: { enabled: true },
    http_api: { disabled: true },
    engine,
    client: { token: { hmac_secret_key: JWT_SECRET } },
    // Documented as saving memory per connection; what an operator of many connections would set.
    websocket: { use_write_buffer_pool: true },
    channel: {
      namespaces: [
        { name: "chat", allow_publish_for_subscriber: true },
        {
          name: "hist",
          allow_publish_for_subscriber: true,
          history_size: 1000,
          history_ttl: "24h",
          force_recovery: true,
          presence: true,
        },
      ],
    },
  };
}

export async function startCentrifugo(
  bin: string,
  workDir: string,
  name: string,
  engine?: Record<string, unknown>,
): Promise<ServerProcess> {
  const port = freePort();
  const file = join(workDir, `${name}.json`);
  await Bun.write(file, JSON.stringify(centrifugoConfig(port, engine), null, 2));
  return startServer([bin, "--config", file], {}, { port, healthPath: "/health" });
}

/** One Socket.IO node; with REDIS_URL (and REDIS_PREFIX) in `env` it joins a Redis-adapter cluster. */
export function startSocketIo(
  membersFile: string,
  env: Record<string, string> = { REDIS_URL: "" },
): Promise<ServerProcess> {
  return startServer(["node", join(root, "bench/peers/socketio-server.mjs")], {
    JWT_SECRET,
    MEMBERS_FILE: membersFile,
    NODE_ENV: "production",
    ...env,
  });
}

const wsUrl = (p: ServerProcess) => `ws://127.0.0.1:${p.port}`;

/** Starts every single-node peer and makes their users and rooms. */
export async function startPeers(layout: Layout): Promise<PeerSet> {
  const workDir = mkdtempSync(join(tmpdir(), "chattalk-bench-peers-"));
  const procs: ServerProcess[] = [];
  const peers: Peer[] = [];
  const stop = async () => {
    await Promise.allSettled(procs.map((p) => p.stop()));
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    // BENCH_PROFILE=<dir>: ChatTalk writes a CPU profile there (JSON and markdown) when it stops.
    const profile = process.env.BENCH_PROFILE
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, "--cpu-prof-md"]
      : [];
    // BENCH_STALLS=<file>: ChatTalk's event-loop drift, one JSON line a second (bench/support/loop-stalls.ts).
    const stalls = process.env.BENCH_STALLS ? ["--preload", join(root, "bench/support/loop-stalls.ts")] : [];
    const chattalk = await startServer(
      [BUN, ...profile, ...stalls, join(root, "apps/main.ts")],
      {
        ...chattalkEnv(join(workDir, "chattalk")),
        ...(process.env.BENCH_STALLS ? { LOOP_STALLS_FILE: process.env.BENCH_STALLS } : {}),
      },
      { healthPath: "/readyz" },
    );
    procs.push(chattalk);
    console.error("bench peers: making ChatTalk's users and rooms through its HTTP API");
    const ctAccounts = await chattalkAccounts(`http://127.0.0.1:${chattalk.port}`, layout, "pu");
    peers.push({
      name: "ChatTalk",
      protocol: "stomp",
      urls: [wsUrl(chattalk)],
      procs: [chattalk],
      accounts: ctAccounts,
    });

    const bin = await centrifugoBinary();
    if (bin) {
      const centrifugo = await startCentrifugo(bin, workDir, "centrifugo");
      procs.push(centrifugo);
      for (const [name, ns] of [
        ["Centrifugo", "chat"],
        ["Centrifugo +history", "hist"],
      ] as const) {
        const accounts = await jwtAccounts(layout, (room) => `${ns}:${room}`, true);
        peers.push({
          name,
          protocol: "centrifugo",
          urls: [wsUrl(centrifugo)],
          procs: [centrifugo],
          accounts,
        });
      }
    } else {
      console.error("bench peers: Centrifugo is not installed (scripts/peers install); left out");
    }

    const sioAccounts = await jwtAccounts(layout, (room) => room, false);
    const membersFile = join(workDir, "socketio-members.json");
    await Bun.write(membersFile, JSON.stringify(membership(layout, sioAccounts)));
    const sio = await startSocketIo(membersFile);
    procs.push(sio);
    peers.push({
      name: "Socket.IO",
      protocol: "socketio",
      urls: [wsUrl(sio)],
      procs: [sio],
      accounts: sioAccounts,
    });

    const bare = await startServer([BUN, join(root, "bench/peers/bare-server.ts")], {});
    procs.push(bare);
    // Room ids as long as ChatTalk's UUIDs, so its frames are the same size.
    const bareAccounts = await jwtAccounts(layout, (room) => `/topic/rooms/${room.padStart(36, "0")}`, false);
    peers.push({
      name: "bare Bun",
      protocol: "stomp",
      urls: [wsUrl(bare)],
      procs: [bare],
      accounts: bareAccounts,
    });
    return { peers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
