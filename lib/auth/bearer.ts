/**
 * The token from an `Authorization: Bearer <token>` value, or null. The scheme is case-insensitive
 * (RFC 9110 §11.1). The one parser for HTTP requests and STOMP CONNECT frames alike.
 */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
