/**
 * Idle-connection benchmark: resident memory per authenticated STOMP connection at 10,000 of them on
 * a ws-node process (`bun apps/ws-node/main.ts`, embedded adapters), next to a bare Bun.serve
 * WebSocket process holding as many idle sockets. The clients live in a child process
 * (bench/support/idle-clients.ts); RSS is read from /proc/<pid>/status.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { tokenServiceFromConfig } from "../lib/auth/index.ts";
import { openStores } from "../lib/backends.ts";
import { parseConfig } from "../lib/config/index.ts";
import { fmtInt, killProcess, LineChild, rssKiB } from "./support/child.ts";

const CONNECTIONS = 10_000;
/** Tokens of this many users, used round-robin (100 connections each, under the per-user cap). */
const USERS = 100;
const WARMUP_CONNECTIONS = 20;
const TARGET_KIB = 16;
const JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256!";
const root = new URL("..", import.meta.url).pathname;
const CLIENTS = join(root, "bench/support/idle-clients.ts");
const RAW_SERVER = join(root, "bench/support/raw-idle-server.ts");
const WS_NODE = join(root, "apps/ws-node/main.ts");

interface Measurement {
  beforeKiB: number;
  afterKiB: number;
  perConnectionKiB: number;
  connectSeconds: number;
}

function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function waitHealthy(port: number, server: Subprocess): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode} before listening`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`server on port ${port} never became healthy`);
    await Bun.sleep(50);
  }
}

/** Users and their access tokens, made in the node's own DATA_DIR before it starts. */
async function makeTokens(dataDir: string): Promise<string> {
  const config = parseConfig({ DATA_DIR: dataDir, JWT_SECRET, LOG_LEVEL: "warn" });
  const stores = await openStores(config);
  const tokens = tokenServiceFromConfig(config);
  const out: string[] = [];
  try {
    for (let i = 0; i < USERS; i++) {
      const user = await stores.users.createUser(`idle${i}`, "not-a-login");
      out.push(await tokens.issueAccessToken(user));
    }
  } finally {
    await stores.close();
  }
  const file = join(dataDir, "tokens.json");
  await Bun.write(file, JSON.stringify(out));
  return file;
}

/** Starts a server process, warms it up, and measures its RSS before and with CONNECTIONS idle clients. */
async function measure(
  command: string[],
  env: Record<string, string>,
  tokensFile: string,
): Promise<Measurement> {
  const port = freePort();
  const server = Bun.spawn(command, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdin: "ignore",
    stdout: 2,
    stderr: "inherit",
  });
  const url = `ws://127.0.0.1:${port}/ws`;
  let clients: LineChild | undefined;
  try {
    await waitHealthy(port, server);
    // Warm-up: a few connections through every code path, closed again, then a second of quiet.
    const warm = LineChild.spawn(CLIENTS, [url, String(WARMUP_CONNECTIONS), tokensFile]);
    try {
      await warm.next("connected");
    } finally {
      await warm.stop();
    }
    await Bun.sleep(1_000);
    const beforeKiB = await rssKiB(server.pid);
    const t0 = performance.now();
    clients = LineChild.spawn(CLIENTS, [url, String(CONNECTIONS), tokensFile]);
    await clients.next("connected", 300_000);
    const connectSeconds = (performance.now() - t0) / 1000;
    await Bun.sleep(2_000);
    const afterKiB = await rssKiB(server.pid);
    clients.send("stats");
    const closes = Number((await clients.next("stats"))[0]);
    if (closes > 0) throw new Error(`${closes} idle connections were closed by the server`);
    return { beforeKiB, afterKiB, perConnectionKiB: (afterKiB - beforeKiB) / CONNECTIONS, connectSeconds };
  } finally {
    await clients?.stop(10_000);
    await killProcess(server);
  }
}

export default async function run(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), "chattalk-bench-conn-"));
  try {
    const tokensFile = await makeTokens(dataDir);
    const baseline = await measure([process.execPath, RAW_SERVER], {}, tokensFile);
    const ours = await measure(
      [process.execPath, WS_NODE],
      {
        DATA_DIR: dataDir,
        JWT_SECRET,
        LOG_LEVEL: "warn",
        // The schema's ceiling; each of the USERS users holds 100.
        MAX_CONNECTIONS_PER_USER: "10000",
        // Every client comes from this machine's one address.
        WS_MAX_CONNECTIONS: "100000",
        WS_MAX_CONNECTIONS_PER_IP: "100000",
      },
      tokensFile,
    );
    return report(ours, baseline);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(ours: Measurement, baseline: Measurement): string {
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const row = (what: string, m: Measurement) =>
    `| ${what} | ${mib(m.beforeKiB)} | ${mib(m.afterKiB)} | ${m.perConnectionKiB.toFixed(2)} | ${m.connectSeconds.toFixed(1)} |`;
  const ok = ours.perConnectionKiB <= TARGET_KIB;
  return [
    `### Idle connections (${fmtInt(CONNECTIONS)})`,
    "",
    `A ws-node process (\`bun apps/ws-node/main.ts\`, embedded adapters, LOG_LEVEL=warn) holding ${fmtInt(CONNECTIONS)}`,
    `authenticated STOMP 1.2 sessions (CONNECT with a bearer token of one of ${USERS} users, heart-beat 0,0,`,
    "no subscription), next to a bare `Bun.serve` WebSocket process holding as many sockets, each of which",
    "answered one CONNECT-sized message with a fixed CONNECTED frame. Clients live in a separate process.",
    `RSS (VmRSS) is read after a warm-up of ${WARMUP_CONNECTIONS} connections closed again and a second idle, and`,
    "again once every connection has its CONNECTED and has been idle for 2 s.",
    "",
    "| server | RSS before (MiB) | RSS after (MiB) | KiB per connection | connect time (s) |",
    "| --- | ---: | ---: | ---: | ---: |",
    row("raw `Bun.serve` WebSockets", baseline),
    row("ws-node (STOMP session, authenticated)", ours),
    "",
    `**${ours.perConnectionKiB.toFixed(2)} KiB per idle authenticated connection** (target ≤ ${TARGET_KIB} KiB: ${
      ok ? "met" : "missed"
    }); Bun's own WebSocket costs ${baseline.perConnectionKiB.toFixed(2)} KiB, so ChatTalk adds ${(
      ours.perConnectionKiB - baseline.perConnectionKiB
    ).toFixed(2)} KiB.`,
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await run());
