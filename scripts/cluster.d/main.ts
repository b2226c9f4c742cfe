/**
 * scripts/cluster: ChatTalk as a cluster on this machine, behind its own nginx.
 *
 *   up --replicas N [--base-port P]   services, then a supervisor that runs http-api, presence-node,
 *                                     N ws-nodes and nginx on P, restarting any that exits (backoff)
 *   scale N [--rebalance]             N live ws-node replicas: adds, drains (dead ones first) or starts
 *                                     dead ones again; --rebalance spreads connections to new ones
 *   rebalance                         close a tenth of the connections on the busiest replicas (1001)
 *                                     per round until they are even; clients reconnect through nginx
 *   status [--json]                   pid, port, health, restarts, last exit, connections, messages
 *                                     in/out, Kafka lag; exits 1 unless every process is ready
 *   down                              stop everything up and scale started
 *   logs <name> [--run K]             one process's log (ws-node-1, http-api, nginx, supervisor, ...);
 *                                     --run 1 is the previous `up`'s, up to 5 runs back
 *
 * The cluster's health through nginx: /healthz and /readyz (200 when the http-api, the presence-node
 * and at least one ws-node answer; the body lists every process) and /metrics (every process's,
 * from 127.0.0.1 only), answered by the supervisor on base port + 3.
 *
 * Common options: --dir D (state, data and logs; default .services/cluster, or CHATTALK_CLUSTER_DIR),
 * --no-services (do not run scripts/services up; the service URLs come from the environment).
 * ChatTalk settings in the environment (SEND_RATE_PER_SEC, KAFKA_TOPIC, ...) reach every app process;
 * CHATTALK_NGINX_CONNS_PER_IP (default 200) is nginx's limit of open connections per client address.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { down, lockCluster, rebalance, scale, up } from "./cluster.ts";
import { clusterPaths, defaultDir, loadState, ports } from "./state.ts";
import { clusterStatus, formatProcesses, formatStatus, statusOk } from "./status.ts";

const say = (msg: string) => process.stderr.write(`[cluster] ${msg}\n`);

function usage(): never {
  const text = readFileSync(import.meta.path, "utf8");
  const doc = /\/\*\*\n([\s\S]*?)\*\//.exec(text)![1]!.replace(/^ \* ?/gm, "");
  process.stderr.write(doc);
  process.exit(2);
}

function count(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value)) {
    say(`${what} must be a whole number`);
    usage();
  }
  return Number(value);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      replicas: { type: "string" },
      "base-port": { type: "string" },
      dir: { type: "string" },
      "no-services": { type: "boolean" },
      json: { type: "boolean" },
      rebalance: { type: "boolean" },
      run: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) usage();
  const dir = resolve(values.dir ?? defaultDir());

  if (command === "logs") {
    if (!arg) usage();
    const run = values.run === undefined ? 0 : count(values.run, "--run");
    const logs = run === 0 ? clusterPaths(dir).logs : `${clusterPaths(dir).logs}.${run}`;
    const file = join(logs, `${arg}.log`);
    if (!existsSync(file)) {
      say(`no log for ${arg} in ${logs}`);
      return 1;
    }
    process.stdout.write(readFileSync(file));
    return 0;
  }
  if (command === "status") {
    const state = loadState(dir);
    if (!state) {
      say(`no cluster in ${dir}`);
      return 1;
    }
    const s = await clusterStatus(state);
    process.stdout.write(values.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
    return statusOk(s) ? 0 : 1;
  }

  const unlock = lockCluster(dir);
  try {
    if (command === "up") {
      const state = await up({
        dir,
        replicas: count(values.replicas ?? "3", "--replicas"),
        basePort: count(values["base-port"] ?? "58000", "--base-port"),
        services: !values["no-services"],
        say,
      });
      process.stdout.write(
        `${formatProcesses(state)}\n\nopen http://127.0.0.1:${ports.nginx(state.basePort)}/\n`,
      );
      return 0;
    }
    if (command === "scale") {
      const state = await scale(dir, count(arg, "scale N"), say, { rebalance: values.rebalance });
      process.stdout.write(`${formatProcesses(state)}\n`);
      return 0;
    }
    if (command === "rebalance") {
      await rebalance(dir, say);
      return 0;
    }
    if (command === "down") {
      await down(dir, say);
      return 0;
    }
  } finally {
    unlock();
  }
  usage();
}

try {
  process.exit(await main(Bun.argv.slice(2)));
} catch (err) {
  say(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
