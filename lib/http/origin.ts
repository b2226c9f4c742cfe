/**
 * Whether a WebSocket upgrade may proceed, by its Origin: a browser page of this site (the Origin's
 * host is the request's Host) or of a configured origin (ALLOWED_ORIGINS, exact `scheme://host[:port]`,
 * or `*` for any). A request without Origin is not from a browser page (stomp.py, a server, a test
 * client) and is allowed: the Origin check protects browsers' users from other sites' pages, and
 * credentials travel only inside CONNECT anyway.
 */
export function originAllowed(req: Request, allowed: readonly string[]): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  if (allowed.includes("*")) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const host = req.headers.get("host");
  if (host && url.host === host.toLowerCase()) return true;
  return allowed.includes(url.origin);
}
