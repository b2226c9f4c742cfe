import type { Server, WebSocketHandler } from "bun";
import { errorFields, type Logger } from "../log/index.ts";
import { clientIp } from "./client-ip.ts";
import { type Caps, ConnectionCounter, type Refusal } from "./connection-caps.ts";
import { jsonError } from "./json-error.ts";
import { withSecurityHeaders } from "./security-headers.ts";

/**
 * A piece of an app mounted at a path prefix. `handle` may upgrade the request to a WebSocket
 * (returning undefined) or answer it. `T` is the per-socket data of the server's WebSockets; a mount
 * that upgrades puts the `ip` it was given in the socket's data as `clientIp`.
 */
export interface Mount<T = unknown> {
  prefix: string;
  handle(req: Request, server: Server<T>, ip: string): Response | undefined | Promise<Response | undefined>;
}

/** What serveMounts needs of a WebSocket's data: the client address its slot was counted under. */
export interface SocketData {
  clientIp?: string;
}

/**
 * What the process itself holds against slow or numerous clients, so the embedded default survives
 * without a proxy in front: requests in flight and WebSockets open, in total and per address; how
 * long a request body may take; how long an idle HTTP connection stays. (Bun closes a connection
 * whose request headers are not complete within about 10 s by itself.)
 */
export interface ServeLimits {
  requests: Caps;
  sockets: Caps;
  bodyTimeoutSec: number;
  idleTimeoutSec: number;
  maxBodyBytes: number;
}

export interface ServeOptions<T> {
  hostname: string;
  port: number;
  /** Take the client's address from X-Forwarded-For (behind nginx). */
  trustProxy: boolean;
  /** For a server with WebSocket mounts. */
  websocket?: WebSocketHandler<T>;
  /** Defaults: generous caps, a 10 s body timeout, 30 s idle (see lib/config/serve.ts for the settings). */
  limits?: ServeLimits;
}

export const DEFAULT_SERVE_LIMITS: ServeLimits = {
  requests: { total: 1024, perIp: 64 },
  sockets: { total: 10_000, perIp: 200 },
  bodyTimeoutSec: 10,
  idleTimeoutSec: 30,
  maxBodyBytes: 1024 * 1024,
};

function matches(path: string, prefix: string): boolean {
  return prefix === "/" || path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);
}

const isUpgrade = (req: Request) => req.headers.get("upgrade")?.toLowerCase() === "websocket";
const hasBody = (req: Request) =>
  req.body !== null &&
  (req.headers.has("transfer-encoding") || Number(req.headers.get("content-length")) > 0);

/** A refusal that also ends the connection, so a refused client holds nothing. */
function full(refused: Refusal, what: string): Response {
  const res =
    refused === "per-ip"
      ? jsonError(429, "too_many_connections", `too many ${what} from your address; retry shortly`)
      : jsonError(503, "server_busy", `the server has too many ${what}; retry shortly`);
  res.headers.set("Connection", "close");
  res.headers.set("Retry-After", "1");
  return res;
}

/**
 * One Bun.serve for a list of mounts, longest prefix first. Used by every process entry point.
 * Requests in flight and WebSockets open are capped in total and per client address (TRUST_PROXY
 * decides what the address is), and a request body must arrive within bodyTimeoutSec: it is read
 * here, before the mount runs, so a client sending a byte every few seconds is cut off.
 */
export function serveMounts<T extends SocketData>(options: ServeOptions<T>, mounts: Mount<T>[]): Server<T> {
  const limits = options.limits ?? DEFAULT_SERVE_LIMITS;
  const requests = new ConnectionCounter(limits.requests);
  const sockets = new ConnectionCounter(limits.sockets);
  const ordered = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  const ws = options.websocket;
  const route = async (req: Request, srv: Server<T>): Promise<Response | undefined> => {
    const path = new URL(req.url).pathname;
    const mount = ordered.find((m) => matches(path, m.prefix));
    if (!mount) return jsonError(404, "not_found", `no route for ${path}`);
    const ip = clientIp(req, srv, options.trustProxy);
    if (isUpgrade(req)) {
      // Counted when the socket opens (Bun opens it inside upgrade()), released when it closes.
      const refused = sockets.refusal(ip);
      if (refused) return full(refused, "connections");
      return mount.handle(req, srv, ip);
    }
    const refused = requests.tryAcquire(ip);
    if (refused) return full(refused, "requests in flight");
    try {
      let request = req;
      if (hasBody(req)) {
        srv.timeout(req, limits.bodyTimeoutSec);
        let body: ArrayBuffer;
        try {
          body = await req.arrayBuffer();
        } catch {
          // Cut off at the deadline (or the client went away): the connection is gone already.
          return jsonError(408, "request_timeout", "the request body did not arrive in time");
        }
        srv.timeout(req, limits.idleTimeoutSec);
        request = new Request(req.url, { method: req.method, headers: req.headers, body });
      }
      return await mount.handle(request, srv, ip);
    } finally {
      requests.release(ip);
    }
  };
  const server = Bun.serve<T>({
    hostname: options.hostname,
    port: options.port,
    idleTimeout: limits.idleTimeoutSec,
    maxRequestBodySize: limits.maxBodyBytes,
    async fetch(req, srv) {
      const res = await route(req, srv);
      return res && withSecurityHeaders(res);
    },
    // A server without WebSocket mounts never upgrades; Bun still wants a handler.
    websocket: ws
      ? {
          ...ws,
          open(socket) {
            sockets.acquire(socket.data.clientIp ?? "unknown");
            return ws.open?.(socket);
          },
          close(socket, code, reason) {
            sockets.release(socket.data.clientIp ?? "unknown");
            return ws.close?.(socket, code, reason);
          },
        }
      : { message() {} },
    error(err) {
      // Details stay in the log; clients get the JSON error shape without internals.
      process.stderr.write(
        `${JSON.stringify({ level: "error", msg: "unhandled request error", ...errorFields(err) })}\n`,
      );
      return withSecurityHeaders(jsonError(500, "internal", "internal error"));
    },
  });
  return server;
}

/** Runs `stop` once on SIGTERM or SIGINT, then exits. */
export function stopOnSignal(stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "shutting down", { signal });
    stop()
      .catch((err) => log("error", "shutdown failed", errorFields(err)))
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}
