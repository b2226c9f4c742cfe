/**
 * The cluster's supervisor: `bun scripts/cluster.d/supervisor.ts <dir>`, started by `scripts/cluster up`
 * (and again by `scale` or `rebalance` when it is gone), one per cluster directory.
 *
 * It runs what spec.json wants and reports in state.json. A process that exits on its own is started
 * again after a backoff (backoff.ts) and its log gets a line saying so; a ws-node leaves nginx's
 * upstream the moment it dies and joins again once its /readyz answers, so nginx never sends a
 * client to a dead port. A process no longer wanted leaves nginx first, then drains (SIGTERM). It
 * answers the cluster's /healthz, /readyz and /metrics on base+3 (nginx routes them here).
 *
 * SIGHUP: read spec.json now (the CLI sends it after a change; it is also read every tick).
 * SIGTERM: stop everything in order (ws-nodes and presence drain, then the http-api, then nginx), exit.
 * Killed itself, it leaves its processes running; a new supervisor adopts them by pid.
 */
import { existsSync, statSync } from "node:fs";
import type { Subprocess } from "bun";
import { parseConfig } from "../../lib/config/index.ts";
import { mergeExpositions, type ProcessCheck, supervisorExposition, verdict } from "./aggregate.ts";
import { appCommand } from "./apps.ts";
import { crashesInARow, restartDelayMs } from "./backoff.ts";
import {
  healthDirectives,
  liveServerLines,
  nginxCommand,
  nginxFiles,
  nginxSecurityHeaders,
  reloadNginx,
  writeNginxConf,
} from "./nginx.ts";
import { appendLogLine, isAlive, launch, probe, stopProcess } from "./procs.ts";
import {
  type ClusterProcess,
  type ClusterSpec,
  type ClusterState,
  clusterPaths,
  loadSpec,
  loadState,
  ports,
  REPO,
  saveState,
  type WantedProcess,
} from "./state.ts";

const TICK_MS = 250;
/** Running processes answer /healthz this often; a frozen one (SIGSTOP, a stuck event loop) fails it. */
const LIVENESS_EVERY_MS = 1_000;
/** Failed liveness probes in a row before a ws-node leaves nginx (it joins again once it answers). */
const UNRESPONSIVE_AFTER = 3;
/** Unresponsive this long, a process is killed, and so restarted (kill -9: a frozen one ignores TERM). */
const KILL_UNRESPONSIVE_MS = 60_000;

interface Runtime {
  p: ClusterProcess;
  /** Our child, when we started it (an adopted process has none: its exit is seen by polling). */
  child?: Subprocess;
  startedMs: number;
  /** Quick crashes in a row (backoff.ts). */
  crashes: number;
  probing: boolean;
  stopping?: Promise<void>;
  lastLivenessMs: number;
  failedLiveness: number;
  unresponsiveSinceMs?: number;
}

const say = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: "info", msg, ...fields })}\n`,
  );

export class Supervisor {
  private readonly procs = new Map<string, Runtime>();
  private state: ClusterState;
  private spec: ClusterSpec;
  private specMtime = 0;
  private upstream: number[] = [];
  private nginxSync: Promise<void> = Promise.resolve();
  private dirty = true;
  private ticking = false;
  private stoppingAll: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private server: ReturnType<typeof Bun.serve> | undefined;

  constructor(private readonly dir: string) {
    const spec = loadSpec(dir);
    if (!spec) throw new Error(`no spec.json in ${dir}`);
    this.spec = spec;
    const previous = loadState(dir);
    this.state = {
      dir,
      basePort: spec.basePort,
      env: spec.env,
      startedAt: spec.startedAt,
      processes: [],
      supervisor: { pid: process.pid, startedAt: new Date().toISOString() },
      upstream: [],
      departed: previous?.departed ?? [],
    };
    // A supervisor that died left its processes running: adopt those still alive.
    for (const p of previous?.processes ?? []) {
      if (p.pid > 0 && isAlive(p)) {
        this.procs.set(p.name, {
          p: { ...p },
          startedMs: Date.now(),
          crashes: 0,
          probing: false,
          lastLivenessMs: 0,
          failedLiveness: 0,
        });
        say("adopted a running process", { process: p.name, pid: p.pid });
      }
    }
    this.upstream = previous?.upstream?.filter((port) => this.liveWsPorts().includes(port)) ?? [];
  }

  get graceMs(): number {
    return parseConfig(this.spec.env).SHUTDOWN_GRACE_MS + 5_000;
  }

  async start(): Promise<void> {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: ports.health(this.spec.basePort),
      fetch: (req) => this.answer(new URL(req.url).pathname),
    });
    process.on("SIGHUP", () => void this.tick());
    process.on("SIGTERM", () => void this.shutdown());
    process.on("SIGINT", () => void this.shutdown());
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    await this.tick();
    say("supervisor running", { dir: this.dir, pid: process.pid, health: this.server.port });
  }

  /** One pass: read the spec, start, restart, stop, probe, keep nginx in step, save the state. */
  async tick(): Promise<void> {
    if (this.ticking || this.stoppingAll) return;
    this.ticking = true;
    try {
      this.readSpec();
      const wanted = new Map(this.spec.want.map((w) => [w.name, w]));
      for (const w of this.spec.want) if (!this.procs.has(w.name)) this.add(w);
      for (const r of this.procs.values()) {
        const w = wanted.get(r.p.name);
        if (!w) {
          if (!r.stopping) this.retire(r);
          continue;
        }
        if (r.stopping) continue;
        if ((w.epoch ?? 0) > (r.p.epoch ?? 0)) this.nudge(r, w.epoch ?? 0);
        if (!r.child && r.p.phase !== "backoff" && !isAlive(r.p)) this.exited(r, null, null);
        if (r.p.phase === "backoff" && Date.now() >= Date.parse(r.p.nextStartAt ?? "0")) this.spawn(r);
        if (r.p.phase === "starting" && !r.probing) void this.probeReady(r);
        if (r.p.phase === "running" && !r.probing && Date.now() - r.lastLivenessMs >= LIVENESS_EVERY_MS) {
          void this.probeLiveness(r);
        }
      }
      this.syncNginx();
      if (this.dirty) this.save();
    } catch (err) {
      say("supervisor tick failed", { err: String(err) });
    } finally {
      this.ticking = false;
    }
  }

  private readSpec(): void {
    const file = clusterPaths(this.dir).spec;
    if (!existsSync(file)) return;
    const mtime = statSync(file).mtimeMs;
    if (mtime === this.specMtime) return;
    const spec = loadSpec(this.dir);
    if (spec) this.spec = spec;
    this.specMtime = mtime;
    this.dirty = true;
  }

  private add(w: WantedProcess): void {
    const log = `${clusterPaths(this.dir).logs}/${w.name}.log`;
    const p: ClusterProcess = {
      ...w,
      pid: 0,
      url: `http://127.0.0.1:${w.port}`,
      log,
      phase: "backoff",
      restarts: 0,
      nextStartAt: new Date(0).toISOString(),
    };
    this.procs.set(w.name, {
      p,
      startedMs: 0,
      crashes: 0,
      probing: false,
      lastLivenessMs: 0,
      failedLiveness: 0,
    });
    this.dirty = true;
  }

  /** `scale` asked for a dead process now: no more waiting out its backoff. */
  private nudge(r: Runtime, epoch: number): void {
    r.p.epoch = epoch;
    if (r.p.phase === "backoff") {
      r.crashes = 0;
      r.p.nextStartAt = new Date().toISOString();
    }
    this.dirty = true;
  }

  private spawn(r: Runtime): void {
    const { p } = r;
    const first = p.pid === 0;
    const { cmd, env } =
      p.kind === "nginx"
        ? { cmd: this.prepareNginx(), env: {} as Record<string, string> }
        : appCommand(this.spec, p);
    const child = launch(cmd, env, p.log, REPO);
    r.child = child;
    r.startedMs = Date.now();
    r.failedLiveness = 0;
    r.unresponsiveSinceMs = undefined;
    p.unresponsiveSince = undefined;
    p.pid = child.pid;
    p.phase = "starting";
    p.nextStartAt = undefined;
    if (!first) {
      p.restarts = (p.restarts ?? 0) + 1;
      if (p.kind !== "nginx") {
        appendLogLine(p.log, "warn", "started again by scripts/cluster", {
          restarts: p.restarts,
          pid: p.pid,
        });
      }
    }
    say(first ? "started" : "restarted", { process: p.name, pid: p.pid, restarts: p.restarts });
    void child.exited.then(() => {
      const signal = child.signalCode;
      if (r.child === child) this.exited(r, child.exitCode, signal === null ? null : String(signal));
    });
    this.dirty = true;
  }

  /** A wanted process exited on its own: out of nginx now, started again after the backoff. */
  private exited(r: Runtime, code: number | null, signal: string | null): void {
    if (r.stopping || this.stoppingAll) return;
    const { p } = r;
    r.child = undefined;
    const ranMs = Math.max(0, Date.now() - r.startedMs);
    r.crashes = crashesInARow(r.crashes, ranMs);
    const delay = restartDelayMs(r.crashes);
    p.lastExit = { at: new Date().toISOString(), code, signal, ranSec: Math.round(ranMs / 100) / 10 };
    p.phase = "backoff";
    p.nextStartAt = new Date(Date.now() + delay).toISOString();
    const how = signal ? `signal ${signal}` : code === null ? "unknown status (adopted)" : `code ${code}`;
    say("process exited; restarting", { process: p.name, pid: p.pid, how, inMs: delay });
    if (p.kind !== "nginx") {
      appendLogLine(p.log, "error", "exited; scripts/cluster restarts it", { how, pid: p.pid, inMs: delay });
    }
    this.dirty = true;
    this.syncNginx();
  }

  private async probeReady(r: Runtime): Promise<void> {
    r.probing = true;
    try {
      const path = r.p.kind === "nginx" ? "/nginx-health" : "/readyz";
      const res = await probe(`${r.p.url}${path}`, 1_000);
      if (res?.ok && r.p.phase === "starting" && !r.stopping) {
        r.p.phase = "running";
        say("ready", { process: r.p.name, pid: r.p.pid });
        this.dirty = true;
        this.syncNginx();
      }
    } finally {
      r.probing = false;
    }
  }

  /**
   * A running process that stops answering (frozen by SIGSTOP, a stuck event loop) leaves nginx after
   * a few failed probes and joins again when it answers; after a minute it is killed and restarted.
   */
  private async probeLiveness(r: Runtime): Promise<void> {
    r.probing = true;
    r.lastLivenessMs = Date.now();
    try {
      const path = r.p.kind === "nginx" ? "/nginx-health" : "/healthz";
      const res = await probe(`${r.p.url}${path}`, 1_000);
      if (r.stopping || r.p.phase !== "running") return;
      if (res) {
        if (r.unresponsiveSinceMs !== undefined) say("answering again", { process: r.p.name, pid: r.p.pid });
        r.failedLiveness = 0;
        r.unresponsiveSinceMs = undefined;
        if (r.p.unresponsiveSince) this.dirty = true;
        r.p.unresponsiveSince = undefined;
      } else if (++r.failedLiveness === UNRESPONSIVE_AFTER) {
        r.unresponsiveSinceMs = Date.now();
        r.p.unresponsiveSince = new Date().toISOString();
        this.dirty = true;
        say("not answering; out of nginx until it does", { process: r.p.name, pid: r.p.pid });
      } else if (
        r.unresponsiveSinceMs !== undefined &&
        Date.now() - r.unresponsiveSinceMs > KILL_UNRESPONSIVE_MS
      ) {
        say("not answering for a minute; killing it", { process: r.p.name, pid: r.p.pid });
        appendLogLine(r.p.log, "error", "killed by scripts/cluster: not answering for a minute", {
          pid: r.p.pid,
        });
        process.kill(r.p.pid, "SIGKILL");
      }
      this.syncNginx();
    } finally {
      r.probing = false;
    }
  }

  /** No longer wanted: out of nginx first, then drained by SIGTERM (killed after the grace time). */
  private retire(r: Runtime): void {
    const { p } = r;
    p.phase = "stopping";
    this.dirty = true;
    this.syncNginx();
    r.stopping = (async () => {
      await this.nginxSync;
      const child = r.child;
      let clean = true;
      if (child && child.exitCode === null && child.signalCode === null) {
        clean = await stopProcess(p, this.graceMs);
      } else if (!child && isAlive(p)) {
        clean = await stopProcess(p, this.graceMs);
      }
      r.child = undefined;
      this.procs.delete(p.name);
      const departed = [
        ...(this.state.departed ?? []),
        { name: p.name, pid: p.pid, clean, at: new Date().toISOString() },
      ];
      this.state.departed = departed.slice(-20);
      say(clean ? "drained and exited" : "killed after the grace time", { process: p.name, pid: p.pid });
      this.dirty = true;
      this.save();
    })();
  }

  private liveWsPorts(): number[] {
    return [...this.procs.values()]
      .filter(
        (r) =>
          r.p.kind === "ws-node" &&
          r.p.phase === "running" &&
          !r.stopping &&
          r.unresponsiveSinceMs === undefined,
      )
      .map((r) => r.p.port)
      .sort((a, b) => a - b);
  }

  private nginxVars() {
    const base = this.spec.basePort;
    const firstWs = this.spec.want.find((w) => w.kind === "ws-node")?.port ?? ports.ws(base, 1);
    return {
      CHATTALK_LISTEN: `127.0.0.1:${ports.nginx(base)}`,
      CHATTALK_WS_SERVERS: liveServerLines(
        this.upstream.map((port) => `127.0.0.1:${port}`),
        `127.0.0.1:${firstWs}`,
      ),
      CHATTALK_PRESENCE_SERVER: `127.0.0.1:${ports.presence(base)}`,
      CHATTALK_API_SERVER: `127.0.0.1:${ports.api(base)}`,
      CHATTALK_WEB_ROOT: clusterPaths(this.dir).web,
      CHATTALK_CONNS_PER_IP: String(this.spec.connsPerIp ?? 200),
      CHATTALK_HEALTH: healthDirectives(`127.0.0.1:${ports.health(base)}`),
      CHATTALK_SECURITY_HEADERS: nginxSecurityHeaders(),
    };
  }

  private prepareNginx(): string[] {
    const files = nginxFiles(this.dir, clusterPaths(this.dir).logs);
    this.upstream = this.liveWsPorts();
    writeNginxConf(files, this.nginxVars());
    return nginxCommand(files);
  }

  /** Rewrites and reloads nginx when the live ws-nodes changed; one reload at a time, in order. */
  private syncNginx(): void {
    const live = this.liveWsPorts();
    if (live.join() === this.upstream.join()) return;
    this.upstream = live;
    this.save(); // state.json tells the same as nginx's configuration, at once
    const vars = this.nginxVars();
    this.nginxSync = this.nginxSync.then(async () => {
      const files = nginxFiles(this.dir, clusterPaths(this.dir).logs);
      try {
        writeNginxConf(files, vars);
        const nginx = this.procs.get("nginx");
        if (nginx && nginx.p.phase === "running" && isAlive(nginx.p)) {
          await reloadNginx(nginx.p.pid);
          say("nginx reloaded", { upstream: live });
        }
      } catch (err) {
        say("nginx not updated", { err: String(err) });
      }
    });
  }

  private save(): void {
    this.state.env = this.spec.env;
    this.state.processes = [...this.procs.values()].map((r) => r.p);
    this.state.upstream = this.upstream;
    saveState(this.state);
    this.dirty = false;
  }

  /** The cluster's /healthz, /readyz (200 when the chat works) and /metrics (every process's). */
  private async answer(path: string): Promise<Response> {
    const apps = [...this.procs.values()].map((r) => r.p).filter((p) => p.kind !== "nginx");
    if (path === "/metrics") {
      const texts = await Promise.all(
        apps.map(async (p) => (isAlive(p) ? ((await probe(`${p.url}/metrics`, 2_000))?.text() ?? "") : "")),
      );
      const own = supervisorExposition(
        [...this.procs.values()].map((r) => r.p),
        isAlive,
      );
      return new Response(mergeExpositions([own, ...texts]), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (path !== "/healthz" && path !== "/readyz") {
      return Response.json(
        { error: { code: "not_found", message: `no route for ${path}` } },
        { status: 404 },
      );
    }
    const checks: ProcessCheck[] = await Promise.all(
      apps.map(async (p) => ({
        name: p.name,
        kind: p.kind,
        phase: p.phase ?? "running",
        restarts: p.restarts ?? 0,
        status: isAlive(p) ? ((await probe(`${p.url}${path}`, 1_500))?.status ?? 0) : 0,
      })),
    );
    const v = verdict(checks);
    return Response.json(
      {
        status: v.ok ? (path === "/readyz" ? "ready" : "ok") : "unavailable",
        problems: v.problems,
        processes: checks,
      },
      { status: v.ok ? 200 : 503 },
    );
  }

  /** `down`: drain the replicas and presence, then the http-api, then nginx; then exit. */
  shutdown(): Promise<void> {
    this.stoppingAll ??= (async () => {
      say("stopping everything");
      if (this.timer) clearInterval(this.timer);
      const stop = async (kinds: string[]) => {
        await Promise.all(
          [...this.procs.values()]
            .filter((r) => kinds.includes(r.p.kind))
            .map(async (r) => {
              r.p.phase = "stopping";
              const clean = isAlive(r.p) ? await stopProcess(r.p, this.graceMs) : true;
              say(clean ? "stopped" : "killed after the grace time", { process: r.p.name, pid: r.p.pid });
              this.procs.delete(r.p.name);
            }),
        );
        this.save();
      };
      await stop(["ws-node", "presence-node"]);
      await stop(["http-api"]);
      await stop(["nginx"]);
      this.server?.stop(true);
      process.exit(0);
    })();
    return this.stoppingAll;
  }
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: supervisor.ts <cluster dir>");
    process.exit(2);
  }
  await new Supervisor(dir).start();
}
