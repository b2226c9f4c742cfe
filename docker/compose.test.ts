import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { configSchema, parseConfig } from "../lib/config/index.ts";
import {
  healthDirectives,
  nginxSecurityHeaders,
  renderTemplate,
  type TemplateVars,
  templatePlaceholders,
  wsServerLines,
} from "../scripts/cluster.d/nginx.ts";

/**
 * Docker cannot run here, so docker/compose.yaml is checked against what can: the configuration
 * schema, the nginx template scripts/cluster renders, the app entry points and the pinned Bun.
 */
const repo = join(import.meta.dir, "..");
const read = (path: string) => readFileSync(join(repo, path), "utf8");

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}
const compose = Bun.YAML.parse(read("docker/compose.yaml")) as { services: Record<string, Service> };
const services = compose.services;

/** Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} against a given environment. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const v = env[name];
    if (v !== undefined && v !== "") return v;
    if (op === "-") return arg ?? "";
    throw new Error(`compose needs ${name}: ${arg ?? "unset"}`);
  });
}

function environment(name: string, env: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(services[name]?.environment ?? {}))
    out[k] = interpolate(String(v), env);
  return out;
}

const APPS: Record<string, string> = {
  "http-api": "apps/http-api/main.ts",
  "presence-node": "apps/presence-node/main.ts",
  "ws-node-1": "apps/ws-node/main.ts",
  "ws-node-2": "apps/ws-node/main.ts",
  "ws-node-3": "apps/ws-node/main.ts",
};
/** The port each backing service's image listens on, and the URL variable that names it. */
const BACKENDS = {
  DATABASE_URL: ["postgres", 5432],
  REDIS_URL: ["redis", 6379],
  MONGO_URL: ["mongo", 27017],
} as const;
const secretEnv = { JWT_SECRET: "a-compose-test-secret-of-enough-length-0123456789" };

describe("docker/compose.yaml", () => {
  test("runs the real services, the three ws-node replicas, presence-node, http-api and nginx", () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        "http-api",
        "kafka",
        "mongo",
        "nginx",
        "postgres",
        "presence-node",
        "redis",
        "ws-node-1",
        "ws-node-2",
        "ws-node-3",
      ].sort(),
    );
    expect(services.kafka!.image).toStartWith("apache/kafka:");
    expect(services.mongo!.image).toStartWith("mongo:");
    expect(environment("kafka").KAFKA_PROCESS_ROLES).toBe("broker,controller");
  });

  test("each app runs its own entry point from the app image", () => {
    for (const [name, entry] of Object.entries(APPS)) {
      expect(services[name]!.command).toEqual(["bun", entry]);
      expect(existsSync(join(repo, entry))).toBe(true);
      expect(services[name]!.build).toEqual({
        context: "..",
        dockerfile: "docker/Dockerfile",
        target: "app",
      });
    }
  });

  test("every app setting is a ChatTalk setting, and the whole environment parses", () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const name of Object.keys(APPS)) {
      const env = environment(name, secretEnv);
      expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
      const config = parseConfig(env);
      expect(config.TRUST_PROXY).toBe(true); // behind nginx: per-IP limits use X-Forwarded-For
      expect(config.HOST).toBe("0.0.0.0");
    }
    expect(() => environment("ws-node-1")).toThrow(/JWT_SECRET/); // no built-in secret
  });

  test("service URLs point at the compose services on the ports their images listen on", () => {
    const kafkaPort = Number(
      /PLAINTEXT:\/\/kafka:(\d+)/.exec(environment("kafka").KAFKA_ADVERTISED_LISTENERS!)![1],
    );
    for (const name of Object.keys(APPS)) {
      const env = environment(name, secretEnv);
      const needs: string[] = [];
      for (const [key, [service, port]] of Object.entries(BACKENDS)) {
        const url = new URL(env[key]!);
        expect(url.hostname).toBe(service);
        expect(Number(url.port)).toBe(port);
        needs.push(service);
      }
      expect(env.KAFKA_BROKERS).toBe(`kafka:${kafkaPort}`);
      const pg = new URL(env.DATABASE_URL!);
      const pgEnv = environment("postgres");
      expect([pg.username, pg.password, pg.pathname.slice(1)]).toEqual([
        pgEnv.POSTGRES_USER!,
        pgEnv.POSTGRES_PASSWORD!,
        pgEnv.POSTGRES_DB!,
      ]);
      // Started after what it uses (presence-node uses only Postgres and Redis).
      const used = name === "presence-node" ? ["postgres", "redis"] : [...needs, "kafka"];
      for (const s of used) expect(Object.keys(services[name]!.depends_on ?? {})).toContain(s);
    }
  });

  test("the three ws-node replicas differ only in NODE_ID", () => {
    const [a, b, c] = ["ws-node-1", "ws-node-2", "ws-node-3"].map((n) => {
      const s = structuredClone(services[n]!);
      const id = s.environment!.NODE_ID;
      delete s.environment!.NODE_ID;
      return { s, id };
    });
    expect(b!.s).toEqual(a!.s);
    expect(c!.s).toEqual(a!.s);
    expect(new Set([a!.id, b!.id, c!.id]).size).toBe(3);
  });

  test("nginx renders scripts/cluster's template: every placeholder set, upstreams at the app services", () => {
    const template = read("scripts/nginx/chattalk.conf.template");
    const env = environment("nginx");
    expect(Object.keys(env).sort()).toEqual(templatePlaceholders(template));
    const port = (name: string) => environment(name, secretEnv).PORT;
    expect(env.CHATTALK_WS_SERVERS).toBe(
      wsServerLines(["ws-node-1", "ws-node-2", "ws-node-3"].map((n) => `${n}:${port(n)}`)),
    );
    expect(env.CHATTALK_PRESENCE_SERVER).toBe(`presence-node:${port("presence-node")}`);
    expect(env.CHATTALK_API_SERVER).toBe(`http-api:${port("http-api")}`);
    expect(env.CHATTALK_HEALTH).toBe(healthDirectives(undefined));
    expect(env.CHATTALK_SECURITY_HEADERS).toBe(nginxSecurityHeaders());
    expect(services.nginx!.ports).toEqual([`8080:${env.CHATTALK_LISTEN}`]);
    const conf = renderTemplate(template, env as unknown as TemplateVars);
    expect(conf).toContain("server ws-node-3:3000 max_fails=2 fail_timeout=10s;");
    for (const app of Object.keys(APPS)) expect(Object.keys(services.nginx!.depends_on ?? {})).toContain(app);
  });

  test("the Dockerfile uses the Bun version the project pins, and ships the template and web client to nginx", () => {
    const dockerfile = read("docker/Dockerfile");
    const pkg = JSON.parse(read("package.json")) as { devDependencies: Record<string, string> };
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(bases).toContain(`oven/bun:${pkg.devDependencies.bun}`);
    expect(bases.filter((b) => b.startsWith("oven/bun:"))).toEqual(
      bases.filter((b) => b === `oven/bun:${pkg.devDependencies.bun}`),
    );
    expect(dockerfile).toContain(
      "COPY scripts/nginx/chattalk.conf.template /etc/nginx/templates/chattalk.conf.template",
    );
    const nginxStage = dockerfile.slice(dockerfile.search(/^FROM \S+ AS nginx$/m));
    expect(nginxStage).toMatch(/COPY --from=web \/web \S+\n/);
    const webRoot = /COPY --from=web \/web (\S+)/.exec(nginxStage)![1];
    expect(environment("nginx").CHATTALK_WEB_ROOT).toBe(webRoot);
    expect(existsSync(join(repo, "package-lock.json"))).toBe(true); // npm ci needs it
  });
});
