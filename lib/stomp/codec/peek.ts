/**
 * The command at the start of encoded frame bytes, or undefined for heart-beats and anything
 * unexpected: enough to count outgoing frames by command without parsing them.
 */
export function peekCommand(data: string | Uint8Array): string | undefined {
  let i = 0;
  const at = typeof data === "string" ? (k: number) => data.charCodeAt(k) : (k: number) => data[k] ?? NaN;
  while (i < data.length && (at(i) === 10 || at(i) === 13)) i++;
  let command = "";
  for (let k = i; k < data.length && k < i + 12; k++) {
    const c = at(k);
    if (c === 10 || c === 13) return command || undefined;
    if (c < 65 || c > 90) return undefined;
    command += String.fromCharCode(c);
  }
  return undefined;
}
