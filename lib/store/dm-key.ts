/** The key of two users' one DM room: the same whichever of them opens it. */
export function dmKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** The two users of a DM key. */
export function dmUsersOf(key: string | null): [string, string] | undefined {
  if (!key) return undefined;
  const at = key.indexOf(":");
  return [key.slice(0, at), key.slice(at + 1)];
}

/** Above every username with this prefix in code-point order (usernames never contain U+10FFFF). */
export function prefixUpperBound(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}
