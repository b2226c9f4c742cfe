/** The key of two users' one DM room: the same whichever of them opens it. */
export function dmKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** Above every username with this prefix in code-point order (usernames never contain U+10FFFF). */
export function prefixUpperBound(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}
