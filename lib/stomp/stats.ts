/** Counters for metrics and status. */
export interface EndpointStats {
  connectionsOpened: number;
  connectionsClosed: number;
  rateLimited: number;
  heartbeatTimeouts: number;
  /** By command, every frame parsed from clients. */
  framesIn: Record<string, number>;
  /** By command; a MESSAGE published to a topic counts once per subscriber. */
  framesOut: Record<string, number>;
  /** Closed connections by WebSocket close code (4008 slow consumer, 1006 cut off or lost). */
  closes: Record<number, number>;
  /** Sends that passed the send-buffer limit: Bun cuts such a socket off (1006). */
  backpressure: number;
}

/** The command at the start of a frame, or undefined for heart-beats and anything unexpected. */
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

export function count(counts: Record<string, number>, command: string | undefined, n = 1): void {
  if (command !== undefined) counts[command] = (counts[command] ?? 0) + n;
}

export function newStats(): EndpointStats {
  return {
    connectionsOpened: 0,
    connectionsClosed: 0,
    rateLimited: 0,
    heartbeatTimeouts: 0,
    framesIn: {},
    framesOut: {},
    closes: {},
    backpressure: 0,
  };
}
