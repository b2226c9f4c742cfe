import type { Server, WebSocketHandler } from "bun";
import { errorFields, type Logger } from "../log/index.ts";
import { clientIp } from "./client-ip.ts";
import { jsonError } from "./json-error.ts";

/**
 * A piece of an app mounted at a path prefix. `handle` may upgrade the request to a WebSocket
 * (returning undefined) or answer it. `T` is the per-socket data of the server's WebSockets.
 */
export interface Mount<T = unknown> {
  prefix: string;
  handle(req: Request, server: Server<T>, ip: string): Response | undefined | Promise<Response | undefined>;
}

export interface ServeOptions<T> {
  hostname: string;
  port: number;
  /** Take the client's address from X-Forwarded-For (behind nginx). */
  trustProxy: boolean;
  /** For a server with WebSocket mounts. */
  websocket?: WebSocketHandler<T>;
}

function matches(path: string, prefix: string): boolean {
  return prefix === "/" || path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);
}

/** One Bun.serve for a list of mounts, longest prefix first. Used by every process entry point. */
export function serveMounts<T>(options: ServeOptions<T>, mounts: Mount<T>[]): Server<T> {
  const ordered = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  const server = Bun.serve<T>({
    hostname: options.hostname,
    port: options.port,
    idleTimeout: 60,
    async fetch(req, srv) {
      const path = new URL(req.url).pathname;
      const mount = ordered.find((m) => matches(path, m.prefix));
      if (!mount) return jsonError(404, "not_found", `no route for ${path}`);
      return mount.handle(req, srv, clientIp(req, srv, options.trustProxy));
    },
    // A server without WebSocket mounts never upgrades; Bun still wants a handler.
    websocket: options.websocket ?? { message() {} },
    error(err) {
      // Details stay in the log; clients get the JSON error shape without internals.
      process.stderr.write(
        `${JSON.stringify({ level: "error", msg: "unhandled request error", ...errorFields(err) })}\n`,
      );
      return jsonError(500, "internal", "internal error");
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
