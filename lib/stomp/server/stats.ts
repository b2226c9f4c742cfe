import { peekCommand } from "../codec/peek.ts";

/** Counters for metrics and status. */
export interface EndpointStats {
  connectionsOpened: number;
  connectionsClosed: number;
  rateLimited: number;
  /** SENDs the app took on its fast path (StompApp.sendAtOnce), without the frame parser; in framesIn too. */
  sentAtOnce: number;
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

export function count(counts: Record<string, number>, command: string | undefined, n = 1): void {
  if (command !== undefined) counts[command] = (counts[command] ?? 0) + n;
}

/**
 * Counts bytes sent to `receivers` sockets with Bun's send or publish status: -1 means queued past
 * the backpressure mark, 0 dropped (not counted as sent).
 */
export function countSent(
  stats: EndpointStats,
  data: string | Uint8Array,
  status: number,
  receivers = 1,
): void {
  if (status === -1) stats.backpressure++;
  if (status !== 0) count(stats.framesOut, peekCommand(data), receivers);
}

export function newStats(): EndpointStats {
  return {
    connectionsOpened: 0,
    connectionsClosed: 0,
    rateLimited: 0,
    sentAtOnce: 0,
    heartbeatTimeouts: 0,
    framesIn: {},
    framesOut: {},
    closes: {},
    backpressure: 0,
  };
}
