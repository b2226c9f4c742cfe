import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server, Subprocess } from "bun";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";

/** Per-socket data of the echo server: who forwarded the upgrade request. */
interface EchoData {
  via: string;
}

/** A port the kernel just gave out and took back, for nginx, which cannot listen on port 0. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

function nginxConfig(dir: string, listenPort: number, upstreamPort: number): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${listenPort};
    location = /ready { return 200 "ready"; }
    location /ws {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Proxied-By nginx;
    }
  }
}
`;
}

/** Resolves when nginx answers /ready; rejects with its error log if it exits first. */
async function untilReady(nginx: Subprocess, url: string, errorLog: string): Promise<void> {
  let exited = false;
  void nginx.exited.then(() => {
    exited = true;
  });
  for (let attempt = 0; attempt < 200; attempt++) {
    if (exited) {
      const log = await readFile(errorLog, "utf8").catch(() => "(no error log)");
      throw new Error(`nginx exited with ${nginx.exitCode}:\n${log}`);
    }
    const answer = await fetch(url).catch(() => undefined);
    if (answer?.ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`nginx did not answer ${url}`);
}

describe.skipIf(skipWithout("nginx"))("nginx smoke (WebSocket proxied to a Bun echo server)", () => {
  let dir: string;
  let echo: Server<EchoData>;
  let nginx: Subprocess | undefined;
  let nginxPort: number;

  beforeAll(async () => {
    echo = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request, server) {
        // The header only nginx adds proves the socket came through the proxy, not around it.
        const via = request.headers.get("x-proxied-by") ?? "direct";
        if (server.upgrade(request, { data: { via } })) return undefined;
        return new Response("websocket only", { status: 426 });
      },
      websocket: {
        data: {} as EchoData,
        message(socket, message) {
          socket.send(`echo via ${socket.data.via}: ${message}`);
        },
      },
    });
    dir = await mkdtemp(join(tmpdir(), "chattalk-nginx-smoke-"));
    nginxPort = await freePort();
    const conf = join(dir, "nginx.conf");
    await writeFile(conf, nginxConfig(dir, nginxPort, echo.port!));
    const errorLog = join(dir, "error.log");
    nginx = Bun.spawn([serviceUrl("nginx")!, "-p", `${dir}/`, "-e", errorLog, "-c", conf], {
      stdout: "ignore",
      stderr: "ignore",
    });
    await untilReady(nginx, `http://127.0.0.1:${nginxPort}/ready`, errorLog);
  });

  afterAll(async () => {
    if (nginx) {
      nginx.kill("SIGQUIT");
      await nginx.exited;
    }
    await echo?.stop(true);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("a WebSocket through nginx echoes a message", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${nginxPort}/ws`);
    const opened = new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error("WebSocket through nginx failed")), {
        once: true,
      });
    });
    const reply = new Promise<string>((resolve) => {
      socket.addEventListener("message", (event) => resolve(String(event.data)), { once: true });
    });
    const closed = new Promise<number>((resolve) => {
      socket.addEventListener("close", (event) => resolve(event.code), { once: true });
    });

    await opened;
    socket.send("hello through nginx");
    expect(await reply).toBe("echo via nginx: hello through nginx");
    socket.close(1000, "done");
    expect(await closed).toBe(1000);
  });
});
