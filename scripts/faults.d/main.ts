/**
 * bun run faults -- [--seed N] [--minutes M] [--keep] [--no-doc]
 *
 * The fault suite: a private stack (its own Postgres, Redis, Kafka, FerretDB, each behind toxiproxy,
 * and a 3-replica scripts/cluster; see stack.ts) under steady chat load from the load generator for
 * M minutes (default 5), while a scheduler drawn from the seed kills (-9) and freezes (SIGSTOP) the
 * ws-nodes, the presence-node and the http-api, stops and restarts each service, reloads nginx, and
 * slows, stalls, resets and cuts the connections to each service. The last 45 s are fault-free, then
 * the load generator drains and its checker verifies every room (scripts/loadgen.d/checker.ts), the
 * history through the HTTP API and presence within 15 s. The run's row and details go to
 * docs/reliability.md (unless --no-doc); the JSON report to .services/private/faults-<seed>.json.
 * --keep leaves the stack running afterwards. Exits 1 when the checker finds a problem.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatSummary } from "../loadgen.d/report.ts";
import { runLoad } from "../loadgen.d/run.ts";
import { type Injected, inject } from "./inject.ts";
import { type FaultRun, writeReliability } from "./report.ts";
import { plan } from "./schedule.ts";
import { REPO, startStack } from "./stack.ts";

/** Faults start this long after the load does, and stop this long before it ends. */
const WARMUP_SEC = 10;
const HEAL_SEC = 45;

const say = (line: string) => process.stderr.write(`${line}\n`);
const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    seed: { type: "string" },
    minutes: { type: "string", default: "5" },
    keep: { type: "boolean" },
    "no-doc": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stderr.write(
    /\/\*\*\n([\s\S]*?)\*\//.exec(readFileSync(import.meta.path, "utf8"))![1]!.replace(/^ \* ?/gm, ""),
  );
  process.exit(2);
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(values.seed);
const minutes = Number(values.minutes);
if (!Number.isInteger(seed) || !(minutes >= 1)) {
  say("faults: --seed must be a whole number and --minutes at least 1");
  process.exit(2);
}
say(`[faults] seed ${seed} (replay: bun run faults -- --seed ${seed} --minutes ${minutes})`);
const durationSec = minutes * 60;
const planned = plan(seed, durationSec - WARMUP_SEC - HEAL_SEC);
const run = `f${seed}x${Date.now().toString(36)}`;
const stack = await startStack({
  run,
  proxied: true,
  replicas: 3,
  // A bus outage must answer quickly enough that clients retry within the run.
  settings: { BUS_SEND_TIMEOUT_MS: "3000", SHUTDOWN_GRACE_MS: "5000" },
  say,
});

let code = 1;
try {
  const startedAt = new Date().toISOString();
  let faults: Promise<Injected[]> = Promise.resolve([]);
  let loadDone = false;
  const load = await runLoad({
    url: stack.url,
    users: 60,
    rooms: 20,
    members: 5,
    rate: 20,
    durationSec,
    churn: 0.05,
    churnEverySec: 20,
    kill: 0.5,
    stored: 0.3,
    receiptTimeoutMs: 8_000,
    maxAttempts: 60,
    drainSec: 120,
    presenceRooms: 10,
    history: true,
    seed,
    prefix: `f${run}`,
    say,
    onStart: () => {
      faults = Bun.sleep(WARMUP_SEC * 1000).then(() => inject(stack, planned, say, () => loadDone));
    },
  });
  loadDone = true;
  const injected = await faults;
  const state = JSON.parse(readFileSync(join(stack.clusterDir, "state.json"), "utf8")) as {
    processes: { name: string; restarts?: number }[];
  };
  const result: FaultRun = {
    seed,
    minutes,
    startedAt,
    injected,
    load,
    restarts: Object.fromEntries(state.processes.map((p) => [p.name, p.restarts ?? 0])),
  };
  writeFileSync(join(stack.dir, `faults-${seed}.json`), `${JSON.stringify(result, null, 2)}\n`);
  if (!values["no-doc"]) writeReliability(join(REPO, "docs/reliability.md"), result);
  process.stdout.write(`${formatSummary(load)}\n  faults injected: ${injected.length}\n  seed ${seed}\n`);
  code = load.ok ? 0 : 1;
} catch (err) {
  say(`[faults] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  if (values.keep) say(`[faults] --keep: the stack stays up (cluster in ${stack.clusterDir})`);
  else await stack.stop();
}
process.exit(code);
