import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { parseConfig } from "../../lib/config/index.ts";
import { type Say, spawnApp, waitReady } from "./apps.ts";
import { randomSecret, servicesUp, sharedEnv } from "./env.ts";
import { nginxCommand, nginxFiles, reloadNginx, writeNginxConf, wsServerLines } from "./nginx.ts";
import { isAlive, lastLines, launch, pidRunning, portFree, probe, stopProcess } from "./procs.ts";
import {
  type ClusterProcess,
  type ClusterState,
  clusterPaths,
  loadState,
  ports,
  REPO,
  saveState,
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

function shutdownGraceMs(state: ClusterState): number {
  return parseConfig(state.env).SHUTDOWN_GRACE_MS + 5_000;
}

function nginxVars(state: ClusterState) {
  const find = (kind: string) => state.processes.find((p) => p.kind === kind)!;
  return {
    CHATTALK_LISTEN: `127.0.0.1:${ports.nginx(state.basePort)}`,
    CHATTALK_WS_SERVERS: wsServerLines(wsNodes(state).map((p) => `127.0.0.1:${p.port}`)),
    CHATTALK_PRESENCE_SERVER: `127.0.0.1:${find("presence-node").port}`,
    CHATTALK_API_SERVER: `127.0.0.1:${find("http-api").port}`,
    CHATTALK_WEB_ROOT: clusterPaths(state.dir).web,
  };
}

/** Everything `up` starts: services, http-api, presence-node, N ws-nodes, nginx. */
export async function up(o: UpOptions): Promise<ClusterState> {
  const existing = loadState(o.dir);
  if (existing?.processes.some(isAlive)) {
    throw new Error(`a cluster is already running from ${o.dir} (scripts/cluster status | scale | down)`);
  }
  if (o.replicas < 1) throw new Error("--replicas must be at least 1");
  const paths = clusterPaths(o.dir);
  const wanted = [ports.nginx(o.basePort), ports.api(o.basePort), ports.presence(o.basePort)];
  for (let i = 1; i <= o.replicas; i++) wanted.push(ports.ws(o.basePort, i));
  for (const port of wanted)
    if (!(await portFree(port))) throw new Error(`port ${port} is taken; choose another --base-port`);

  const services = o.services ? servicesUp() : {};
  const fromCaller = o.services ? services : (process.env as Record<string, string>);
  const state: ClusterState = {
    dir: o.dir,
    basePort: o.basePort,
    env: sharedEnv(fromCaller, process.env, randomSecret),
    processes: [],
    startedAt: new Date().toISOString(),
  };
  parseConfig(state.env); // a bad setting fails here, once, rather than in every process
  rmSync(paths.logs, { recursive: true, force: true });
  mkdirSync(paths.logs, { recursive: true });
  saveState(state);

  try {
    o.say("building the web client");
    const build = Bun.spawnSync([process.execPath, "apps/web/serve.ts", paths.web], {
      cwd: REPO,
      stderr: "pipe",
    });
    if (build.exitCode !== 0) throw new Error(`web build failed: ${build.stderr.toString()}`);

    // The http-api migrates the store: it goes first, so the others find the schema in place.
    const api = spawnApp(state, "http-api", "http-api", ports.api(o.basePort));
    state.processes.push(api);
    saveState(state);
    await waitReady([api], o.say);

    const rest = [spawnApp(state, "presence-node", "presence-node", ports.presence(o.basePort))];
    for (let i = 1; i <= o.replicas; i++) rest.push(wsReplica(state, i));
    state.processes.push(...rest);
    saveState(state);
    await waitReady(rest, o.say);

    await startNginx(state, o.say);
    return state;
  } catch (err) {
    o.say(`up failed; stopping what it started`);
    await down(o.dir, o.say);
    throw err;
  }
}

function wsReplica(state: ClusterState, index: number): ClusterProcess {
  const p = spawnApp(state, "ws-node", `ws-node-${index}`, ports.ws(state.basePort, index));
  p.index = index;
  return p;
}

async function startNginx(state: ClusterState, say: Say): Promise<void> {
  const paths = clusterPaths(state.dir);
  const files = nginxFiles(state.dir, paths.logs);
  writeNginxConf(files, nginxVars(state));
  const port = ports.nginx(state.basePort);
  const log = `${paths.logs}/nginx.log`;
  const pid = launch(nginxCommand(files), {}, log, REPO);
  const nginx: ClusterProcess = {
    name: "nginx",
    kind: "nginx",
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    log,
  };
  state.processes.push(nginx);
  saveState(state);
  const deadline = Date.now() + 10_000;
  while (!(await probe(`${nginx.url}/nginx-health`, 500))?.ok) {
    if (!pidRunning(nginx.pid)) throw new Error(`nginx exited; end of ${log}:\n${lastLines(log, 20)}`);
    if (Date.now() > deadline) throw new Error(`nginx did not answer on :${port}`);
    await Bun.sleep(50);
  }
  say(`nginx ready on :${port} (pid ${pid})`);
  const page = await probe(`${nginx.url}/`);
  if (!page?.ok) {
    say(
      `warning: nginx cannot serve the web client (${page?.status ?? "no answer"}): its workers must be able to read ${paths.web}`,
    );
  }
}

async function regenerateNginx(state: ClusterState): Promise<void> {
  const paths = clusterPaths(state.dir);
  writeNginxConf(nginxFiles(state.dir, paths.logs), nginxVars(state));
  const nginx = state.processes.find((p) => p.kind === "nginx");
  if (!nginx || !isAlive(nginx)) throw new Error("the cluster's nginx is not running");
  await reloadNginx(nginx.pid);
}

/**
 * Grows or shrinks the ws-node replicas. New ones join nginx's upstream once ready; removed ones leave
 * it first (reload: no new connections), then drain on SIGTERM: clients are closed with 1001, reconnect
 * through nginx to the others and recover what they missed.
 */
export async function scale(dir: string, replicas: number, say: Say): Promise<ClusterState> {
  if (replicas < 1) throw new Error("at least one ws-node replica is needed");
  const state = loadState(dir);
  if (!state) throw new Error(`no cluster in ${dir} (scripts/cluster up first)`);
  const current = wsNodes(state);
  if (replicas > current.length) {
    const used = new Set(current.map((p) => p.index));
    const added: ClusterProcess[] = [];
    for (let i = 1; added.length < replicas - current.length; i++) {
      if (used.has(i)) continue;
      if (!(await portFree(ports.ws(state.basePort, i))))
        throw new Error(`port ${ports.ws(state.basePort, i)} is taken`);
      added.push(wsReplica(state, i));
    }
    const pending = { ...state, processes: [...state.processes, ...added] };
    saveState(pending); // recorded before they are ready, so `down` stops them whatever happens
    say(`starting ${added.map((p) => p.name).join(", ")}`);
    try {
      await waitReady(added, say);
      await regenerateNginx(pending);
    } catch (err) {
      say("scale failed; stopping the replicas it started");
      await Promise.all(added.map((p) => stopProcess(p, shutdownGraceMs(state))));
      await regenerateNginx(state).catch(() => {});
      saveState(state);
      throw err;
    }
    say(`nginx reloaded: ${wsNodes(pending).length} ws-node replicas`);
    return pending;
  }
  if (replicas < current.length) {
    const removed = current.slice(replicas);
    const kept = { ...state, processes: state.processes.filter((p) => !removed.includes(p)) };
    await regenerateNginx(kept);
    say(`nginx reloaded without ${removed.map((p) => p.name).join(", ")}; draining them`);
    const grace = shutdownGraceMs(state);
    const clean = await Promise.all(removed.map((p) => stopProcess(p, grace)));
    for (const [i, p] of removed.entries()) {
      say(`${p.name} (pid ${p.pid}) ${clean[i] ? "drained and exited" : "killed after the grace time"}`);
    }
    saveState(kept);
    return kept;
  }
  say(`already ${replicas} ws-node replicas`);
  return state;
}

/** Stops what `up` and `scale` started, by pid: ws-nodes and presence drain first, nginx last. */
export async function down(dir: string, say: Say): Promise<void> {
  const state = loadState(dir);
  if (!state) {
    say(`no cluster in ${dir}`);
    return;
  }
  const grace = shutdownGraceMs(state);
  const stop = async (procs: ClusterProcess[]) => {
    await Promise.all(
      procs.map(async (p) => {
        if (!isAlive(p)) return;
        const clean = await stopProcess(p, grace);
        say(`${p.name} (pid ${p.pid}) ${clean ? "stopped" : "killed after the grace time"}`);
      }),
    );
  };
  await stop(state.processes.filter((p) => p.kind === "ws-node" || p.kind === "presence-node"));
  await stop(state.processes.filter((p) => p.kind === "http-api"));
  await stop(state.processes.filter((p) => p.kind === "nginx"));
  rmSync(clusterPaths(dir).state, { force: true });
}
