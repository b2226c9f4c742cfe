import type { Unsubscribe } from "../bus/types.ts";

/**
 * An ephemeral signal about a room (someone is typing, someone has read up to a seq): never stored,
 * no seq. `kind` and `data` belong to the chat domain (lib/chat/signals.ts); the port only carries them.
 */
export interface RoomSignal {
  kind: string;
  roomId: string;
  userId: string;
  username: string;
  data: Record<string, unknown>;
}

/**
 * The transport of ephemeral signals between nodes: apart from the durable message log, because a
 * signal is worth something only now. The in-process adapter serves the one-process default; the
 * Redis Pub/Sub adapter fans out across replicas. Both deliver each signal at most once to every
 * subscriber on every handle (the publisher's own included), in publish order per publisher. Never a
 * queue: what cannot be handed on now is dropped and counted.
 */
export interface SignalBus {
  /** Hands the signal on; returns at once and never throws. */
  publish(signal: RoomSignal): void;
  /** Receives every signal published (by any handle) after the returned promise resolves. */
  subscribe(handler: (signal: RoomSignal) => void): Promise<Unsubscribe>;
  /** Signals this handle could not hand on (transport unreachable or backed up). */
  readonly dropped: number;
  close(): Promise<void>;
}
