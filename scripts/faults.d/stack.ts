/**
 * A private ChatTalk stack for the fault suite and the soak: its own Postgres, Redis, Kafka, FerretDB
 * (scripts/services with CHATTALK_SERVICES_DIR and its own ports), optionally a toxiproxy in front of
 * each service, and a 3-replica scripts/cluster on its own ports. It never touches the shared set that
 * `scripts/services up` runs for the tests: other ports, other folders, other pids.
 */
import { existsSync, mkdirSync, openSync } from "node:fs";
import { join, resolve } from "node:path";
import { Toxiproxy } from "./toxiproxy.ts";

export const REPO = resolve(import.meta.dir, "../..");
export type ServiceName = "postgres" | "redis" | "kafka" | "ferretdb";
export const SERVICES: ServiceName[] = ["postgres", "redis", "kafka", "ferretdb"];

/** Every port below Linux's ephemeral range, so nothing is reserved system-wide and no client takes one. */
export const LAYOUT = {
  services: {
    postgres: 26432,
    redis: 26379,
    ferretdb: 26017,
    nginx: 26080,
    kafka: 26092,
    kafkaController: 26093,
  },
  /** The broker's second listener, which tells clients to come back through the proxy. */
  kafkaProxied: 26094,
  toxiproxyApi: 26474,
  /** Where the apps connect when the proxy is in the path. */
  proxied: { postgres: 26532, redis: 26479, ferretdb: 26117, kafka: 26194 } as Record<ServiceName, number>,
  clusterBase: 26600,
};

export interface Stack {
  dir: string;
  servicesEnv: Record<string, string>;
  /** The settings the cluster's apps run with (service URLs, topic, database): tools that write
   * into the same stores (scripts/seed-backlog) use them too. */
  appEnv: Record<string, string>;
  clusterDir: string;
  url: string;
  toxiproxy?: Toxiproxy;
  /** scripts/services <args> on the private set. */
  services(...args: string[]): Promise<number>;
  cluster(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export function stackDir(): string {
  return process.env.CHATTALK_PRIVATE_DIR ?? join(REPO, ".services", "private");
}

function servicesEnv(dir: string): Record<string, string> {
  const s = LAYOUT.services;
  return {
    CHATTALK_SERVICES_DIR: join(dir, "services"),
    CHATTALK_POSTGRES_PORT: String(s.postgres),
    CHATTALK_REDIS_PORT: String(s.redis),
    CHATTALK_FERRETDB_PORT: String(s.ferretdb),
    CHATTALK_NGINX_PORT: String(s.nginx),
    CHATTALK_KAFKA_PORT: String(s.kafka),
    CHATTALK_KAFKA_CONTROLLER_PORT: String(s.kafkaController),
    CHATTALK_KAFKA_PROXIED_PORT: String(LAYOUT.kafkaProxied),
    CHATTALK_KAFKA_PROXIED_ADVERTISED: `127.0.0.1:${LAYOUT.proxied.kafka}`,
  };
}

/** The service URLs the apps use: straight to the services, or through the proxy's listeners. */
function appUrls(proxied: boolean): Record<string, string> {
  const port = (svc: ServiceName) => (proxied ? LAYOUT.proxied[svc] : LAYOUT.services[svc]);
  return {
    DATABASE_URL: `postgres://chattalk:chattalk@127.0.0.1:${port("postgres")}/chattalk`,
    REDIS_URL: `redis://127.0.0.1:${port("redis")}`,
    MONGO_URL: `mongodb://127.0.0.1:${port("ferretdb")}/`,
    KAFKA_BROKERS: `127.0.0.1:${port("kafka")}`,
  };
}

async function run(cmd: string[], env: Record<string, string>, log?: string) {
  const fd = log ? openSync(log, "a") : undefined;
  const proc = Bun.spawn(cmd, {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdout: fd ?? "pipe",
    stderr: fd ?? "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    fd === undefined ? new Response(proc.stdout as ReadableStream).text() : Promise.resolve(""),
    fd === undefined ? new Response(proc.stderr as ReadableStream).text() : Promise.resolve(""),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

export async function startStack(o: {
  run: string;
  proxied: boolean;
  replicas: number;
  settings?: Record<string, string>;
  say: (line: string) => void;
}): Promise<Stack> {
  const dir = stackDir();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const env = servicesEnv(dir);
  const log = join(dir, "stack.log");
  const services = async (...args: string[]) =>
    (await run(["bash", "scripts/services", ...args], env, log)).code;
  o.say(`[stack] private services in ${dir} (log ${log})`);
  if ((await services("up", ...SERVICES)) !== 0)
    throw new Error(`private services did not start; see ${log}`);

  let toxiproxy: Toxiproxy | undefined;
  if (o.proxied) {
    const built = await run(["bash", "scripts/faults.d/toxiproxy.sh"], {});
    if (built.code !== 0) throw new Error(`toxiproxy: ${built.stderr}`);
    toxiproxy = await Toxiproxy.start(built.stdout.trim(), LAYOUT.toxiproxyApi, join(dir, "toxiproxy.log"));
    const s = LAYOUT.services;
    const upstream: Record<ServiceName, number> = {
      postgres: s.postgres,
      redis: s.redis,
      ferretdb: s.ferretdb,
      kafka: LAYOUT.kafkaProxied,
    };
    for (const svc of SERVICES) {
      await toxiproxy.createProxy(svc, `127.0.0.1:${LAYOUT.proxied[svc]}`, `127.0.0.1:${upstream[svc]}`);
    }
    o.say(`[stack] toxiproxy on :${LAYOUT.toxiproxyApi} in front of ${SERVICES.join(", ")}`);
  }

  const clusterDir = join(dir, "cluster");
  mkdirSync(clusterDir, { recursive: true, mode: 0o755 });
  const clusterEnv: Record<string, string> = {
    ...appUrls(o.proxied),
    KAFKA_TOPIC: `chattalk.private.${o.run}`,
    KAFKA_PARTITIONS: "6",
    MONGO_DB: `chattalk_private_${o.run}`,
    LOG_LEVEL: "info",
    SIGNUP_IP_BURST: "100000",
    SIGNUP_IP_REFILL_SEC: "0.001",
    LOGIN_IP_BURST: "100000",
    LOGIN_IP_REFILL_SEC: "0.001",
    CHATTALK_NGINX_CONNS_PER_IP: "5000",
    // The load comes from this one machine: the apps' own per-address caps must let it in too.
    WS_MAX_CONNECTIONS_PER_IP: "5000",
    HTTP_MAX_REQUESTS_IN_FLIGHT_PER_IP: "5000",
    NGINX_BIN: process.env.NGINX_BIN ?? "/usr/sbin/nginx",
    ...o.settings,
  };
  const cluster = (...args: string[]) =>
    run(["bash", "scripts/cluster", ...args, "--dir", clusterDir], clusterEnv);
  const up = await cluster(
    "up",
    "--replicas",
    String(o.replicas),
    "--base-port",
    String(LAYOUT.clusterBase),
    "--no-services",
  );
  if (up.code !== 0) {
    await services("down");
    await toxiproxy?.stop();
    throw new Error(`scripts/cluster up failed:\n${up.stderr}`);
  }
  const url = `http://127.0.0.1:${LAYOUT.clusterBase}`;
  o.say(`[stack] ${o.replicas} ws-node replicas behind nginx at ${url} (cluster in ${clusterDir})`);
  return {
    dir,
    servicesEnv: env,
    appEnv: clusterEnv,
    clusterDir,
    url,
    toxiproxy,
    services,
    cluster,
    async stop() {
      if (existsSync(join(clusterDir, "state.json")) || existsSync(join(clusterDir, "spec.json")))
        await cluster("down");
      await toxiproxy?.stop();
      await services("down");
    },
  };
}
