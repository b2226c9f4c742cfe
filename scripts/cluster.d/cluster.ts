import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../lib/config/index.ts";
import { type Say, want } from "./apps.ts";
import { randomSecret, servicesUp, sharedEnv } from "./env.ts";
import { isAlive, lastLines, launch, portFree, probe, stopProcess, supervisorAlive } from "./procs.ts";
import {
  type ClusterProcess,
  type ClusterSpec,
  type ClusterState,
  clusterPaths,
  loadSpec,
  loadState,
  ports,
  REPO,
  saveSpec,
  type WantedProcess,
  wsNodes,
} from "./state.ts";

export interface UpOptions {
  dir: string;
  replicas: number;
  basePort: number;
  /** Run `scripts/services up` first (default); off when the caller's environment names the services. */
  services: boolean;
  say: Say;
}

/** Earlier runs' logs kept beside the current one: logs.1 is the previous run, logs.5 the oldest. */
export const KEPT_RUNS = 5;

/** Holds the cluster directory for one command, so two `scale`s cannot interleave. */
export function lockCluster(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = clusterPaths(dir).lock;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch {
      const holder = Number(readFileSync(file, "utf8").trim() || "0");
      let alive = holder > 0;
      try {
        if (alive) process.kill(holder, 0);
      } catch {
        alive = false;
      }
      if (alive && holder !== process.pid)
        throw new Error(`another scripts/cluster command (pid ${holder}) is running on ${dir}`);
      rmSync(file, { force: true });
      if (attempt > 3) throw new Error(`cannot take the lock ${file}`);
    }
  }
}

/** logs → logs.1 → … → logs.5 (dropped): `up` never deletes what the previous run wrote. */
export function rotateLogs(logs: string, keep = KEPT_RUNS): void {
  rmSync(`${logs}.${keep}`, { recursive: true, force: true });
  for (let i = keep - 1; i >= 1; i--) {
    if (existsSync(`${logs}.${i}`)) renameSync(`${logs}.${i}`, `${logs}.${i + 1}`);
  }
  if (existsSync(logs)) renameSync(logs, `${logs}.1`);
  mkdirSync(logs, { recursive: true });
}

/** Starts the supervisor for `dir` and waits until it has written its state. */
async function startSupervisor(dir: string): Promise<void> {
  const paths = clusterPaths(dir);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" };
  const child = launch(
    [process.execPath, join(REPO, "scripts/cluster.d/supervisor.ts"), dir],
    env,
    paths.supervisorLog,
    REPO,
  );
  child.unref();
  const deadline = Date.now() + 15_000;
  while (loadState(dir)?.supervisor?.pid !== child.pid) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(
        `the supervisor did not start; end of ${paths.supervisorLog}:\n${lastLines(paths.supervisorLog, 20)}`,
      );
    }
    await Bun.sleep(50);
  }
}

/** A mutating command on a cluster whose supervisor died starts a new one, which adopts the processes. */
async function ensureSupervisor(dir: string, say: Say): Promise<void> {
  if (supervisorAlive(loadState(dir))) return;
  say("the supervisor is not running; starting a new one (it adopts the running processes)");
  await startSupervisor(dir);
}

/** Writes the spec and has the supervisor read it now. */
function applySpec(spec: ClusterSpec): void {
  saveSpec(spec);
  const pid = loadState(spec.dir)?.supervisor?.pid;
  if (pid) {
    try {
      process.kill(pid, "SIGHUP");
    } catch {}
  }
}

/**
 * Waits until every named process is running (ready once since it started). One that exits first
 * fails the wait at once with the end of its log: `up` and `scale` do not sit through a crash loop.
 */
async function waitRunning(
  dir: string,
  names: string[],
  say: Say,
  timeoutMs = 90_000,
): Promise<ClusterState> {
  const started = performance.now();
  const since = Date.now();
  const waiting = new Set(names);
  let lastReport = 0;
  const secs = () => ((performance.now() - started) / 1000).toFixed(1);
  for (;;) {
    const state = loadState(dir);
    if (!state) throw new Error(`no cluster state in ${dir}`);
    for (const p of state.processes.filter((q) => waiting.has(q.name))) {
      if (p.phase === "running") {
        waiting.delete(p.name);
        say(`${p.name} ready on :${p.port} (pid ${p.pid}) after ${secs()}s`);
      } else if (p.lastExit && Date.parse(p.lastExit.at) >= since) {
        const how = p.lastExit.signal ?? `code ${p.lastExit.code}`;
        throw new Error(
          `${p.name} exited (${how}) before it was ready; end of ${p.log}:\n${lastLines(p.log, 20)}`,
        );
      }
    }
    if (waiting.size === 0) return state;
    if (!supervisorAlive(state))
      throw new Error(`the supervisor exited; see ${clusterPaths(dir).supervisorLog}`);
    const elapsed = performance.now() - started;
    if (elapsed > timeoutMs) throw new Error(`not ready after ${secs()}s: ${[...waiting].join(", ")}`);
    if (elapsed - lastReport >= 2_000) {
      lastReport = elapsed;
      say(`waiting for ${[...waiting].join(", ")} (${secs()}s)`);
    }
    await Bun.sleep(150);
  }
}

/** Everything `up` starts: services, the supervisor, http-api, presence-node, N ws-nodes, nginx. */
export async function up(o: UpOptions): Promise<ClusterState> {
  const existing = loadState(o.dir);
  if (supervisorAlive(existing) || existing?.processes.some((p) => p.pid > 0 && isAlive(p))) {
    throw new Error(`a cluster is already running from ${o.dir} (scripts/cluster status | scale | down)`);
  }
  if (o.replicas < 1) throw new Error("--replicas must be at least 1");
  const paths = clusterPaths(o.dir);
  const base = o.basePort;
  const wanted = [ports.nginx(base), ports.api(base), ports.presence(base), ports.health(base)];
  for (let i = 1; i <= o.replicas; i++) wanted.push(ports.ws(base, i));
  for (const port of wanted)
    if (!(await portFree(port))) throw new Error(`port ${port} is taken; choose another --base-port`);

  const services = o.services ? servicesUp() : {};
  const fromCaller = o.services ? services : (process.env as Record<string, string>);
  const spec: ClusterSpec = {
    dir: o.dir,
    basePort: base,
    env: sharedEnv(fromCaller, process.env, randomSecret),
    startedAt: new Date().toISOString(),
    want: [want.api(base)],
    connsPerIp: Number(process.env.CHATTALK_NGINX_CONNS_PER_IP ?? 200),
  };
  if (!Number.isInteger(spec.connsPerIp) || spec.connsPerIp! < 1) {
    throw new Error("CHATTALK_NGINX_CONNS_PER_IP must be a whole number of at least 1");
  }
  parseConfig(spec.env); // a bad setting fails here, once, rather than in every process
  rotateLogs(paths.logs);
  rmSync(paths.state, { force: true });

  try {
    o.say("building the web client");
    const build = Bun.spawnSync([process.execPath, "apps/web/serve.ts", paths.web], {
      cwd: REPO,
      stderr: "pipe",
    });
    if (build.exitCode !== 0) throw new Error(`web build failed: ${build.stderr.toString()}`);

    // The http-api migrates the store: it goes first, so the others find the schema in place.
    saveSpec(spec);
    await startSupervisor(o.dir);
    await waitRunning(o.dir, ["http-api"], o.say);

    const rest = [want.presence(base)];
    for (let i = 1; i <= o.replicas; i++) rest.push(want.ws(base, i));
    spec.want.push(...rest);
    applySpec(spec);
    await waitRunning(
      o.dir,
      rest.map((w) => w.name),
      o.say,
    );

    spec.want.push(want.nginx(base));
    applySpec(spec);
    const state = await waitRunning(o.dir, ["nginx"], o.say, 15_000);
    const page = await probe(`http://127.0.0.1:${ports.nginx(base)}/`);
    if (!page?.ok) {
      o.say(
        `warning: nginx cannot serve the web client (${page?.status ?? "no answer"}): its workers must be able to read ${paths.web}`,
      );
    }
    return state;
  } catch (err) {
    o.say("up failed; stopping what it started");
    await down(o.dir, o.say);
    throw err;
  }
}

/** Dead or not answering: the first a scale-down removes, and what `scale` starts again. */
function impaired(p: ClusterProcess | undefined): boolean {
  return p?.phase !== "running" || p.unresponsiveSince !== undefined || !isAlive(p);
}

/**
 * Sets the number of ws-node replicas, counting the live ones. Going down removes dead replicas
 * first, then the highest-numbered; removed ones leave nginx, then drain (SIGTERM: clients closed
 * with 1001 reconnect through nginx to the others and recover what they missed). Dead replicas that
 * stay are started again now, whatever their backoff. `rebalance` then spreads connections to new ones.
 */
export async function scale(
  dir: string,
  replicas: number,
  say: Say,
  opts: { rebalance?: boolean } = {},
): Promise<ClusterState> {
  if (replicas < 1) throw new Error("at least one ws-node replica is needed");
  const spec = loadSpec(dir);
  if (!spec) throw new Error(`no cluster in ${dir} (scripts/cluster up first)`);
  await ensureSupervisor(dir, say);
  const state = loadState(dir)!;
  const running = new Map(state.processes.map((p) => [p.name, p]));
  const current = spec.want.filter((w) => w.kind === "ws-node");
  const live = current.filter((w) => !impaired(running.get(w.name)));
  say(`${live.length} of ${current.length} ws-node replicas live; ${replicas} wanted`);

  const added: WantedProcess[] = [];
  const used = new Set(current.map((w) => w.index));
  for (let i = 1; current.length + added.length < replicas; i++) {
    if (used.has(i)) continue;
    if (!(await portFree(ports.ws(spec.basePort, i))))
      throw new Error(`port ${ports.ws(spec.basePort, i)} is taken`);
    added.push(want.ws(spec.basePort, i));
  }
  const byRemovalOrder = [...current].sort(
    (a, b) =>
      Number(impaired(running.get(b.name))) - Number(impaired(running.get(a.name))) ||
      (b.index ?? 0) - (a.index ?? 0),
  );
  const removed = byRemovalOrder.slice(0, Math.max(0, current.length - replicas));
  const kept = current.filter((w) => !removed.includes(w));
  const revived = kept.filter((w) => impaired(running.get(w.name)));
  for (const w of revived) w.epoch = (w.epoch ?? 0) + 1;

  spec.want = [...spec.want.filter((w) => !removed.includes(w)), ...added];
  applySpec(spec);
  if (added.length > 0) say(`starting ${added.map((w) => w.name).join(", ")}`);
  if (revived.length > 0) say(`starting again now: ${revived.map((w) => w.name).join(", ")}`);
  if (removed.length > 0)
    say(`removing ${removed.map((w) => w.name).join(", ")} (out of nginx, then draining)`);

  await waitRunning(
    dir,
    [...added, ...revived].map((w) => w.name),
    say,
  );
  const deadline = Date.now() + parseConfig(spec.env).SHUTDOWN_GRACE_MS + 30_000;
  const gone = new Set(removed.map((w) => w.name));
  while (loadState(dir)!.processes.some((p) => gone.has(p.name))) {
    if (Date.now() > deadline) throw new Error(`still draining: ${[...gone].join(", ")}`);
    await Bun.sleep(100);
  }
  const after = loadState(dir)!;
  for (const d of (after.departed ?? []).filter((x) => gone.has(x.name)).slice(-removed.length)) {
    say(`${d.name} (pid ${d.pid}) ${d.clean ? "drained and exited" : "killed after the grace time"}`);
  }
  say(
    `${wsNodes(after).length} ws-node replicas; nginx sends clients to ports ${(after.upstream ?? []).join(", ")}`,
  );
  if (opts.rebalance && added.length > 0) await rebalance(dir, say);
  return loadState(dir)!;
}

/** Open STOMP connections on each ws-node replica, from its own /metrics. */
export async function connectionsPerReplica(state: ClusterState): Promise<Map<ClusterProcess, number>> {
  const out = new Map<ClusterProcess, number>();
  await Promise.all(
    wsNodes(state).map(async (p) => {
      const text = await (await probe(`${p.url}/metrics`))?.text();
      const m = text && /^chattalk_stomp_connections\{[^}]*\} (\d+)/m.exec(text);
      if (m) out.set(p, Number(m[1]));
    }),
  );
  return out;
}

/**
 * Gently evens out connections after a scale-up: each round, every replica holding clearly more than
 * its share gets SIGUSR2 and closes a tenth of its connections with 1001; those clients reconnect
 * through nginx, whose least_conn sends them to the emptier replicas. Stops when balanced.
 */
export async function rebalance(dir: string, say: Say, rounds = 20, pauseMs = 1_500): Promise<void> {
  await ensureSupervisor(dir, say);
  for (let round = 1; round <= rounds; round++) {
    const counts = await connectionsPerReplica(loadState(dir)!);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const share = total / Math.max(1, counts.size);
    const busy = [...counts].filter(([, n]) => n > Math.ceil(share * 1.1) + 1);
    const view = [...counts].map(([p, n]) => `${p.name}=${n}`).join(" ");
    if (busy.length === 0) {
      say(`balanced: ${view}`);
      return;
    }
    say(`round ${round}: ${view}; asking ${busy.map(([p]) => p.name).join(", ")} to shed a tenth`);
    for (const [p] of busy) {
      try {
        process.kill(p.pid, "SIGUSR2");
      } catch {}
    }
    await Bun.sleep(pauseMs);
  }
  say("stopped rebalancing after the last round");
}

/** Stops everything `up` started: through the supervisor, or by pid when it is gone. */
export async function down(dir: string, say: Say): Promise<void> {
  const state = loadState(dir);
  const spec = loadSpec(dir);
  if (!state && !spec) {
    say(`no cluster in ${dir}`);
    return;
  }
  const grace = parseConfig(state?.env ?? spec?.env ?? {}).SHUTDOWN_GRACE_MS + 5_000;
  if (state && supervisorAlive(state)) {
    const pid = state.supervisor!.pid;
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 3 * grace + 10_000;
    while (supervisorAlive(state) && Date.now() < deadline) await Bun.sleep(100);
    if (supervisorAlive(state)) process.kill(pid, "SIGKILL");
  }
  // Whatever is left (no supervisor, or it was killed): stop by pid, in the same order.
  const left = (loadState(dir)?.processes ?? []).filter((p) => p.pid > 0 && isAlive(p));
  const stop = async (kinds: string[]) => {
    await Promise.all(
      left
        .filter((p) => kinds.includes(p.kind))
        .map(async (p) => {
          const clean = await stopProcess(p, grace);
          say(`${p.name} (pid ${p.pid}) ${clean ? "stopped" : "killed after the grace time"}`);
        }),
    );
  };
  await stop(["ws-node", "presence-node"]);
  await stop(["http-api"]);
  await stop(["nginx"]);
  const paths = clusterPaths(dir);
  for (const line of lastLines(paths.supervisorLog, 50).split("\n")) {
    const m = /"msg":"(stopped|killed after the grace time)","process":"([^"]+)","pid":(\d+)/.exec(line);
    if (m && state?.processes.some((p) => p.name === m[2] && String(p.pid) === m[3]))
      say(`${m[2]} (pid ${m[3]}) ${m[1]}`);
  }
  rmSync(paths.state, { force: true });
  rmSync(paths.spec, { force: true });
}
