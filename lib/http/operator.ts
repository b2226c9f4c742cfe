import type { Server } from "bun";
import { jsonError } from "./json-error.ts";
import type { Mount } from "./serve.ts";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Whether a request comes straight from this machine: a loopback peer and no proxy's forwarding
 * header (through nginx on the same host, a request is still somebody else's). Operator details —
 * /metrics, /readyz's per-dependency answers — are for these by default.
 */
export function isDirectLocal(req: Request, server: Server<unknown> | undefined): boolean {
  if (req.headers.has("x-forwarded-for") || req.headers.has("forwarded")) return false;
  const peer = server?.requestIP(req)?.address;
  return peer !== undefined && LOOPBACK.test(peer);
}

/** The mount for direct local requests only; anyone else gets the 404 of a path that is not there. */
export function localOnly<T>(mount: Mount<T>): Mount<T> {
  return {
    prefix: mount.prefix,
    handle(req, server, ip) {
      if (!isDirectLocal(req, server as Server<unknown>)) {
        return jsonError(404, "not_found", `no route for ${new URL(req.url).pathname}`);
      }
      return mount.handle(req, server, ip);
    },
  };
}
