import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatClient, roomOf, signup, startTestCluster, type TestCluster } from "../../testkit/cluster.ts";
import { eventually } from "../../testkit/eventually.ts";
import { skipWithout } from "../../testkit/services.ts";
import { rotateLogs } from "./cluster.ts";
import { nginxFiles } from "./nginx.ts";
import { supervisorAlive } from "./procs.ts";
import type { ClusterProcess } from "./state.ts";

/**
 * A cluster that heals: the supervisor restarts what crashes and says so, nginx only ever sends
 * clients to live replicas, `scale` counts live replicas, health answers from the processes, and
 * `rebalance` spreads connections onto new replicas.
 */
describe("logs of earlier runs", () => {
  test("up keeps the previous runs' logs: logs.1 is the last run, five are kept", () => {
    const dir = mkdtempSync(join(tmpdir(), "chattalk-logs-"));
    const logs = join(dir, "logs");
    try {
      for (let run = 1; run <= 7; run++) {
        rotateLogs(logs);
        writeFileSync(join(logs, "ws-node-1.log"), `run ${run}\n`);
      }
      expect(readFileSync(join(logs, "ws-node-1.log"), "utf8")).toBe("run 7\n");
      expect(readFileSync(join(`${logs}.1`, "ws-node-1.log"), "utf8")).toBe("run 6\n");
      expect(readFileSync(join(`${logs}.5`, "ws-node-1.log"), "utf8")).toBe("run 2\n");
      expect(readdirSync(dir).sort()).toEqual(["logs", "logs.1", "logs.2", "logs.3", "logs.4", "logs.5"]);
      mkdirSync(logs, { recursive: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const skip = (["kafka", "postgres", "mongo", "redis", "nginx"] as const).some((s) => skipWithout(s));

describe.skipIf(skip)("a cluster that heals", () => {
  let c: TestCluster;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    c = await startTestCluster(3, { SEND_RATE_PER_SEC: "200", SEND_BURST: "200", SHUTDOWN_GRACE_MS: "3000" });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(cleanups.map(async (f) => f()));
    await c?.destroy();
  }, 60_000);

  const ws = (name: string): ClusterProcess => c.state().processes.find((p) => p.name === name)!;
  /** The ws-node ports in nginx's rendered upstream, the ones not marked down. */
  const upstreamPorts = () => {
    const site = readFileSync(nginxFiles(c.dir, join(c.dir, "logs")).site, "utf8");
    const block = /upstream chattalk_ws \{([^}]*)\}/.exec(site)![1]!;
    return [...block.matchAll(/server 127\.0\.0\.1:(\d+)([^;]*);/g)]
      .filter((m) => !m[2]!.includes("down"))
      .map((m) => Number(m[1]));
  };
  type Status = {
    processes: { name: string; health: string; restarts: number; lastExit?: { signal: string } }[];
  };
  const status = async (): Promise<Status> => JSON.parse((await c.cli("status", "--json")).stdout);

  test("kill -9 of a replica: out of nginx at once, restarted, back in nginx; status and its log say so", async () => {
    const victim = ws("ws-node-2");
    expect(upstreamPorts()).toContain(victim.port);
    process.kill(victim.pid, "SIGKILL");
    const killedAt = Date.now();
    // From the kill on, whenever nginx lists the port, a process must answer there (sampled every 10 ms).
    let sawOut = false;
    let listedWhileDead = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const listed = upstreamPorts().includes(victim.port);
      if (!listed) sawOut = true;
      else if (sawOut) {
        const answers = await fetch(`${victim.url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (!answers) listedWhileDead++;
        else break;
      }
      if (Date.now() > deadline) throw new Error("ws-node-2 did not come back into nginx");
      await Bun.sleep(10);
    }
    expect(sawOut).toBe(true);
    expect(listedWhileDead).toBe(0);
    const after = ws("ws-node-2");
    expect(after.restarts).toBe(1);
    expect(after.lastExit?.signal).toBe("SIGKILL");
    expect(Date.parse(after.lastExit!.at) - killedAt).toBeLessThan(1_000);
    const s = await status();
    const row = s.processes.find((p) => p.name === "ws-node-2")!;
    expect(row).toMatchObject({ health: "ready", restarts: 1, lastExit: { signal: "SIGKILL" } });
    const text = (await c.cli("status")).stdout;
    expect(text).toMatch(/\nws-node-2\s+\d+\s+\d+\s+ready\s+1\s+SIGKILL \d+s ago/);
    const log = (await c.cli("logs", "ws-node-2")).stdout;
    expect(log).toContain('"msg":"exited; scripts/cluster restarts it","how":"signal SIGKILL"');
    expect(log).toContain('"msg":"started again by scripts/cluster"');
  }, 90_000);

  test("/healthz, /readyz and /metrics through nginx answer from the processes, not index.html", async () => {
    const ready = await fetch(c.url("/readyz"));
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; processes: { name: string; status: number }[] };
    expect(body.status).toBe("ready");
    expect(body.processes.map((p) => p.name).sort()).toEqual(
      ["http-api", "presence-node", "ws-node-1", "ws-node-2", "ws-node-3"].sort(),
    );
    expect((await fetch(c.url("/healthz"))).status).toBe(200);
    const metrics = await (await fetch(c.url("/metrics"))).text();
    expect(metrics).toContain('chattalk_cluster_process_restarts_total{process="ws-node-2"} 1');
    for (const name of ["ws-node-1", "ws-node-3", "http-api"]) {
      expect(metrics).toContain(`node="c${c.basePort}-${name}"`);
    }
    expect(metrics.match(/^# TYPE chattalk_stomp_connections /gm)).toHaveLength(1);
  });

  test("scale counts live replicas: a dead one is started again, not added to; scale down drops the dead first", async () => {
    // Frozen (SIGSTOP), a replica is alive but answers nothing: nginx must not send clients there.
    const victim = ws("ws-node-3");
    process.kill(victim.pid, "SIGSTOP");
    cleanups.push(() => process.kill(victim.pid, "SIGCONT"));
    await eventually(() => !upstreamPorts().includes(victim.port), "a frozen replica leaves nginx", 15_000);
    expect((await c.cli("status")).code).toBe(1);
    process.kill(victim.pid, "SIGCONT");
    await eventually(() => upstreamPorts().includes(victim.port), "it joins again once it answers", 15_000);

    process.kill(ws("ws-node-1").pid, "SIGKILL");
    const res = await c.cli("scale", "3");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain("2 of 3 ws-node replicas live; 3 wanted");
    expect(
      c
        .state()
        .processes.filter((p) => p.kind === "ws-node")
        .map((p) => p.name)
        .sort(),
    ).toEqual(["ws-node-1", "ws-node-2", "ws-node-3"]);

    const dead = ws("ws-node-3");
    process.kill(dead.pid, "SIGKILL");
    const down = await c.cli("scale", "2");
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain("removing ws-node-3");
    expect(
      c
        .state()
        .processes.filter((p) => p.kind === "ws-node")
        .map((p) => p.name)
        .sort(),
    ).toEqual(["ws-node-1", "ws-node-2"]);
    expect(upstreamPorts().sort()).toEqual([ws("ws-node-1").port, ws("ws-node-2").port].sort());
    expect((await c.cli("status")).code).toBe(0);
  }, 120_000);

  test("scale 4 --rebalance: the new replicas get a fair share of the existing connections, none lost", async () => {
    const users = await Promise.all(Array.from({ length: 16 }, (_, i) => signup(c, `rb${i}`)));
    const roomId = await roomOf(c, users);
    const clients = users.map((u) => new ChatClient(c.url("/ws", "ws"), u, roomId));
    for (const cl of clients) cleanups.push(() => cl.client.deactivate());
    await Promise.all(clients.map((cl) => cl.start()));
    const res = await c.cli("scale", "4", "--rebalance");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/balanced: /);
    await eventually(() => clients.every((cl) => cl.client.connected), "every client connected", 10_000);
    const per = await c.connectionsPerReplica();
    expect([...per.keys()].sort()).toEqual(["ws-node-1", "ws-node-2", "ws-node-3", "ws-node-4"]);
    for (const n of per.values()) expect(n).toBeGreaterThanOrEqual(2);
    expect([...per.values()].reduce((a, b) => a + b, 0)).toBe(clients.length);
    // Moved clients lost nothing: a message sent now reaches all sixteen once.
    clients[0]!.client.publish({ destination: `/topic/rooms/${roomId}`, body: '{"text":"after rebalance"}' });
    await eventually(() => clients.every((cl) => cl.texts().includes("after rebalance")), "delivery", 10_000);
    for (const cl of clients) expect(cl.texts().filter((t) => t === "after rebalance")).toHaveLength(1);
  }, 120_000);

  test("a dead supervisor is reported; the next scale starts one that adopts the running processes", async () => {
    const before = c.state();
    process.kill(before.supervisor!.pid, "SIGKILL");
    await eventually(() => !supervisorAlive(before), "supervisor gone", 5_000);
    const text = await c.cli("status");
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("is gone, nothing is restarted");
    const res = await c.cli("scale", "4");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain("starting a new one");
    const after = c.state();
    expect(after.supervisor!.pid).not.toBe(before.supervisor!.pid);
    for (const p of before.processes) expect(after.processes.find((q) => q.name === p.name)?.pid).toBe(p.pid);
    // The adopted replica is supervised again: killed, it comes back.
    const victim = ws("ws-node-4");
    process.kill(victim.pid, "SIGKILL");
    await eventually(
      () => ws("ws-node-4").pid !== victim.pid && ws("ws-node-4").phase === "running",
      "restart",
      60_000,
    );
  }, 90_000);
});
