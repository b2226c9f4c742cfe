import type { Server } from "bun";

/**
 * The client's address for per-IP limits. Behind nginx (TRUST_PROXY=true) it is the last hop that
 * nginx appended to X-Forwarded-For; otherwise the socket's peer address, which a client cannot forge.
 */
export function clientIp(req: Request, server: Server<unknown> | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers.get("x-forwarded-for");
    if (xff) {
      const hops = xff.split(",");
      const last = hops[hops.length - 1]!.trim();
      if (last) return last;
    }
  }
  return server?.requestIP(req)?.address ?? "unknown";
}
