import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { skipWithout } from "../../testkit/services.ts";

/**
 * scripts/services as a second, private set beside the default one (the fault suite runs one):
 * its own folder and ports, started and stopped without touching the default set.
 */
const REPO = resolve(import.meta.dir, "../..");
const SCRIPT = join(REPO, "scripts/services");

function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync(["bash", SCRIPT, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

/** Sources the service files and prints what one bash function prints. */
function bashOf(fn: string, env: Record<string, string> = {}): string {
  const script = `set -euo pipefail; REPO=${REPO}; source scripts/services.d/common.sh;
    for s in postgres redis nginx kafka ferretdb; do source scripts/services.d/$s.sh; done; ${fn}`;
  const proc = Bun.spawnSync(["bash", "-c", script], { cwd: REPO, env: { ...process.env, ...env } });
  if (proc.exitCode !== 0) throw new Error(`${fn}: ${proc.stderr.toString()}`);
  return proc.stdout.toString();
}

describe("scripts/services settings", () => {
  test("unset, the Kafka properties are the template with the default ports and log folder", () => {
    const rendered = bashOf("kafka_properties");
    const template = readFileSync(join(REPO, "scripts/kafka/server.properties"), "utf8");
    const dataDir = join(REPO, ".services/data/kafka/data");
    expect(rendered).toBe(
      template
        .replaceAll("@KAFKA_LOG_DIRS@", dataDir)
        .replaceAll("@KAFKA_PORT@", "59092")
        .replaceAll("@KAFKA_CONTROLLER_PORT@", "59093"),
    );
    expect(rendered).toContain("listeners=PLAINTEXT://127.0.0.1:59092,CONTROLLER://127.0.0.1:59093\n");
    expect(bashOf('echo "$PG_URL $REDIS_URL $MONGO_URL $NGINX_URL $KAFKA_BROKERS"').trim()).toBe(
      "postgres://chattalk:chattalk@127.0.0.1:55432/chattalk redis://127.0.0.1:56379 " +
        "mongodb://127.0.0.1:57017/ http://127.0.0.1:58080 127.0.0.1:59092",
    );
  });

  test("a private set moves every port and folder; a proxied Kafka listener advertises the proxy", () => {
    const env = {
      CHATTALK_SERVICES_DIR: "/srv/faults",
      CHATTALK_KAFKA_PORT: "21092",
      CHATTALK_KAFKA_CONTROLLER_PORT: "21093",
      CHATTALK_KAFKA_PROXIED_PORT: "21094",
      CHATTALK_KAFKA_PROXIED_ADVERTISED: "127.0.0.1:21194",
    };
    const rendered = bashOf("kafka_properties", env);
    expect(rendered).toContain("log.dirs=/srv/faults/data/kafka/data\n");
    expect(rendered).toContain("controller.quorum.voters=1@127.0.0.1:21093\n");
    expect(rendered).toContain(
      "listeners=PLAINTEXT://127.0.0.1:21092,CONTROLLER://127.0.0.1:21093,PROXIED://127.0.0.1:21094\n",
    );
    expect(rendered).toContain(
      "advertised.listeners=PLAINTEXT://127.0.0.1:21092,PROXIED://127.0.0.1:21194\n",
    );
    expect(rendered).toContain(
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PROXIED:PLAINTEXT\n",
    );
    expect(rendered).not.toContain("5909");
    const ports = {
      CHATTALK_POSTGRES_PORT: "21432",
      CHATTALK_REDIS_PORT: "21379",
      CHATTALK_FERRETDB_PORT: "21017",
      CHATTALK_NGINX_PORT: "21080",
    };
    expect(
      bashOf('echo "$PG_URL $REDIS_URL $MONGO_URL $NGINX_URL $LOG_DIR"', { ...env, ...ports }).trim(),
    ).toBe(
      "postgres://chattalk:chattalk@127.0.0.1:21432/chattalk redis://127.0.0.1:21379 " +
        "mongodb://127.0.0.1:21017/ http://127.0.0.1:21080 /srv/faults/logs",
    );
  });

  test("an unknown service name is refused", () => {
    const res = run(["status", "mysql"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown service mysql");
  });
});

/** Free ports below Linux's ephemeral range, so the private set reserves nothing system-wide. */
async function freePorts(n: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 21_000 + Math.floor(Math.random() * 100) * 100;
    const ports = Array.from({ length: n }, (_, i) => base + i);
    const free = ports.every((port) => {
      try {
        Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
        return true;
      } catch {
        return false;
      }
    });
    if (free) return ports;
  }
  throw new Error("no free ports");
}

const skip = skipWithout("postgres") || skipWithout("redis") || skipWithout("nginx");

describe.skipIf(skip)("a private set of services", () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-services-"));
  chmodSync(dir, 0o755); // the postgres user keeps its cluster in here
  let env: Record<string, string> = {};
  afterAll(() => {
    run(["down"], env);
    rmSync(dir, { recursive: true, force: true });
  });

  /** What answers on the default set's ports, from the environment the suite runs with. */
  const defaultSetAnswers = async () => {
    const redis = Bun.spawnSync(["redis-cli", "-u", process.env.REDIS_URL!, "ping"]).stdout.toString().trim();
    const nginx = await fetch(`${process.env.NGINX_URL}/nginx-health`).then((r) => r.status);
    const pg = Bun.spawnSync(["psql", "-w", process.env.DATABASE_URL!, "-qAtc", "select 1"], {
      env: { ...process.env, PGCONNECT_TIMEOUT: "3" },
    });
    return { redis, nginx, pg: pg.stdout.toString().trim() };
  };

  test("starts and stops on its own ports and folder; the default set keeps running", async () => {
    const [pg, redis, nginx] = await freePorts(3);
    env = {
      CHATTALK_SERVICES_DIR: dir,
      CHATTALK_POSTGRES_PORT: String(pg),
      CHATTALK_REDIS_PORT: String(redis),
      CHATTALK_NGINX_PORT: String(nginx),
    };
    const reserved = readFileSync("/proc/sys/net/ipv4/ip_local_reserved_ports", "utf8");
    const before = await defaultSetAnswers();
    expect(before).toEqual({ redis: "PONG", nginx: 200, pg: "1" });

    const up = run(["up", "postgres", "redis", "nginx"], env);
    expect(up.code, up.stderr).toBe(0);
    const status = run(["status", "postgres", "redis", "nginx"], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^postgres\\s+port ${pg}\\s+pid \\d+\\s+healthy$`, "m"));
    expect(status.stdout).toMatch(new RegExp(`^redis\\s+port ${redis}\\s+pid \\d+\\s+healthy$`, "m"));
    expect(run(["env"], env).stdout).toContain(`export REDIS_URL=redis://127.0.0.1:${redis}\n`);
    const pids = ["postgres", "redis", "nginx"].map((s) =>
      Number(readFileSync(join(dir, "run", `${s}.pid`), "utf8")),
    );
    expect(existsSync(join(dir, "logs", "redis.log"))).toBe(true);
    expect(await fetch(`http://127.0.0.1:${nginx}/nginx-health`).then((r) => r.status)).toBe(200);
    // Ports below the ephemeral range: nothing reserved system-wide.
    expect(readFileSync("/proc/sys/net/ipv4/ip_local_reserved_ports", "utf8")).toBe(reserved);

    const down = run(["down"], env);
    expect(down.code, down.stderr).toBe(0);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(run(["status", "redis"], env).stdout).toMatch(/^redis\s+port \d+\s+pid -\s+unhealthy$/m);
    expect(await defaultSetAnswers()).toEqual(before);
  }, 120_000);
});
