import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server, Subprocess } from "bun";
import { configSchema } from "../../lib/config/index.ts";
import { clientIp } from "../../lib/http/client-ip.ts";
import { CONTENT_SECURITY_POLICY } from "../../lib/http/security-headers.ts";
import { skipWithout } from "../../testkit/services.ts";
import {
  healthDirectives,
  liveServerLines,
  nginxCommand,
  nginxFiles,
  nginxSecurityHeaders,
  reloadNginx,
  renderTemplate,
  TEMPLATE,
  type TemplateVars,
  templatePlaceholders,
  writeNginxConf,
  wsServerLines,
} from "./nginx.ts";

const template = readFileSync(TEMPLATE, "utf8");

describe("the nginx template", () => {
  test("has exactly the placeholders scripts/cluster and compose fill, and refuses a missing one", () => {
    expect(templatePlaceholders(template)).toEqual([
      "CHATTALK_API_SERVER",
      "CHATTALK_CONNS_PER_IP",
      "CHATTALK_HEALTH",
      "CHATTALK_LISTEN",
      "CHATTALK_PRESENCE_SERVER",
      "CHATTALK_SECURITY_HEADERS",
      "CHATTALK_WEB_ROOT",
      "CHATTALK_WS_SERVERS",
    ]);
    expect(() => renderTemplate(template, { CHATTALK_LISTEN: "80" } as TemplateVars)).toThrow(/CHATTALK_/);
  });

  test("proxy headers are set once for the server: no location drops the inherited X-Forwarded-For", () => {
    const server = template.slice(template.indexOf("server {"));
    const firstLocation = server.search(/^\s*location /m);
    expect(server.slice(0, firstLocation)).toContain(
      "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    );
    expect(server.slice(0, firstLocation)).toContain("proxy_set_header Upgrade $http_upgrade;");
    expect(server.slice(firstLocation)).not.toContain("proxy_set_header");
  });

  test("WebSocket proxy timeouts outlast the STOMP heart-beat and the apps' idle timeout", () => {
    const heartbeatSec = Number(configSchema.shape.HEARTBEAT_MS.parse(undefined)) / 1000;
    const idleSec = Number(configSchema.shape.IDLE_TIMEOUT_SEC.parse(undefined));
    for (const location of ["/ws", "/presence"]) {
      const block = new RegExp(`location ${location} \\{([\\s\\S]*?)\\n  \\}`).exec(template)![1]!;
      for (const d of ["proxy_read_timeout", "proxy_send_timeout"]) {
        const secs = Number(new RegExp(`${d} (\\d+)s;`).exec(block)![1]);
        expect(secs).toBeGreaterThan(Math.max(2 * heartbeatSec, idleSec));
      }
    }
  });

  test("ws-node server lines carry the passive health check", () => {
    expect(wsServerLines(["a:1", "b:2"])).toBe(
      "server a:1 max_fails=2 fail_timeout=10s; server b:2 max_fails=2 fail_timeout=10s;",
    );
    expect(() => wsServerLines([])).toThrow();
    expect(liveServerLines(["a:1"], "a:1")).toBe(wsServerLines(["a:1"]));
    expect(liveServerLines([], "a:1")).toBe("server a:1 down;");
  });
});

/** The rendered configuration on the real nginx binary, in front of small Bun upstreams. */
describe.skipIf(skipWithout("nginx"))("the rendered configuration on nginx", () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-nginx-"));
  chmodSync(dir, 0o755);
  const files = nginxFiles(dir, join(dir, "logs"));
  const hits = { draining: 0, healthy: 0 };
  let nginx: Subprocess;
  let port = 0;
  let draining: Server<undefined>;
  let healthy: Server<undefined>;

  /** Answers like a ws-node: upgrades /ws, echoes the client address it would use. */
  const upstream = (name: "draining" | "healthy") =>
    Bun.serve({
      port: 0,
      fetch(req, srv) {
        hits[name]++;
        if (name === "draining") return new Response("draining", { status: 503 });
        if (req.headers.get("upgrade") === "websocket" && srv.upgrade(req, { data: undefined })) return;
        return Response.json({ ip: clientIp(req, srv, true), xff: req.headers.get("x-forwarded-for") });
      },
      websocket: {
        message(ws, m) {
          ws.send(`echo ${m}`);
        },
      },
    });

  const vars = (ws: Server<undefined>[]): TemplateVars => ({
    CHATTALK_LISTEN: `127.0.0.1:${port}`,
    CHATTALK_WS_SERVERS: wsServerLines(ws.map((s) => `127.0.0.1:${s.port}`)),
    CHATTALK_PRESENCE_SERVER: `127.0.0.1:${healthy.port}`,
    CHATTALK_API_SERVER: `127.0.0.1:${healthy.port}`,
    CHATTALK_WEB_ROOT: dir,
    CHATTALK_CONNS_PER_IP: "200",
    CHATTALK_HEALTH: healthDirectives(`127.0.0.1:${healthy.port}`),
    CHATTALK_SECURITY_HEADERS: nginxSecurityHeaders(),
  });

  beforeAll(async () => {
    draining = upstream("draining");
    healthy = upstream("healthy");
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    port = probe.port;
    probe.stop(true);
    await Bun.write(join(dir, "index.html"), "<!doctype html><title>ChatTalk</title>");
    writeNginxConf(files, vars([draining, healthy]));
    nginx = Bun.spawn(nginxCommand(files), { stdout: "ignore", stderr: "inherit" });
    for (let i = 0; i < 200; i++) {
      if ((await fetch(`http://127.0.0.1:${port}/nginx-health`).catch(() => undefined))?.ok) return;
      await Bun.sleep(25);
    }
    throw new Error("nginx did not start");
  });

  afterAll(async () => {
    nginx?.kill("SIGTERM");
    await nginx?.exited;
    draining?.stop(true);
    healthy?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a replica answering 503 (draining) is skipped: every request reaches the healthy one", async () => {
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/ws`);
      expect(res.status).toBe(200);
    }
    expect(hits.healthy).toBeGreaterThanOrEqual(6);
    expect(hits.draining).toBeGreaterThan(0);
  });

  test("X-Forwarded-For gets the peer appended, so a forged hop cannot become the client address", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/x`, { headers: { "x-forwarded-for": "6.6.6.6" } });
    expect(await res.json()).toEqual({ ip: "127.0.0.1", xff: "6.6.6.6, 127.0.0.1" });
  });

  test("WebSocket upgrade through /ws", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send("ping");
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error("no upgrade"));
    });
    expect(reply).toBe("echo ping");
    ws.close();
  });

  test("static files at /, with the apps' security headers, and limit_req answers 429 past the per-IP burst", async () => {
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(await page.text()).toContain("ChatTalk");
    expect(page.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const statuses = await Promise.all(
      Array.from({ length: 250 }, () => fetch(`http://127.0.0.1:${port}/api/x`).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
  });

  test("after a reload without a replica, nginx sends nothing more to it", async () => {
    writeNginxConf(files, vars([healthy]));
    await reloadNginx(nginx.pid);
    await Bun.sleep(1_100); // the rate limit of the previous test refills
    const before = hits.draining;
    for (let i = 0; i < 5; i++) expect((await fetch(`http://127.0.0.1:${port}/ws`)).status).toBe(200);
    expect(hits.draining).toBe(before);
  });

  test("/healthz, /readyz and /metrics go to the health aggregate, never to the web client", async () => {
    await Bun.sleep(1_100); // the rate limit of an earlier test refills
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ip: "127.0.0.1" }); // the upstream answered, not index.html
    }
  });

  test("with no aggregate they answer a 404 in JSON; with no live replica /ws fails at once", async () => {
    writeNginxConf(files, {
      ...vars([healthy]),
      CHATTALK_WS_SERVERS: liveServerLines([], `127.0.0.1:${healthy.port}`),
      CHATTALK_HEALTH: healthDirectives(undefined),
    });
    await reloadNginx(nginx.pid);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    const before = hits.healthy;
    expect((await fetch(`http://127.0.0.1:${port}/ws`)).status).toBe(502);
    expect(hits.healthy).toBe(before);
  });
});
