/**
 * ChatTalk's pages load only their own bundled scripts and styles, talk only to their own origin
 * (HTTP and WebSocket: CSP Level 3's 'self' covers ws:/wss: of the same host), run no inline script
 * or style, and are never framed. A handler that sets its own policy (the API docs page, with hashes
 * for its inline parts) keeps it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Every response's security headers, each unless the handler set it. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  // For browsers without CSP's frame-ancestors.
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** The response with the security headers it lacks (copied first if its headers are immutable). */
export function withSecurityHeaders(res: Response): Response {
  let out = res;
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (out.headers.has(name)) continue;
    try {
      out.headers.set(name, value);
    } catch {
      out = new Response(out.body, out);
      out.headers.set(name, value);
    }
  }
  return out;
}
