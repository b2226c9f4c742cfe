import type { ControlEvent } from "../chat/control.ts";
import type { LoggedMessage, MessageDraft } from "../chat/message.ts";

/**
 * Whether a publish that failed wrote anything: `not_written` when it certainly did not (refused
 * before it went out), `unknown` when it may have (the request was on the wire when it failed).
 */
export type PublishOutcome = "not_written" | "unknown";

/** Raised when the bus cannot durably accept a message within the configured time. */
export class BusUnavailableError extends Error {
  override readonly name = "BusUnavailableError";
  constructor(
    message: string,
    readonly outcome: PublishOutcome = "unknown",
  ) {
    super(message);
  }
}

/** A live reader's handler: `past` is true for messages appended before the subscription (see pastMs). */
export type BusListener = (message: LoggedMessage, past: boolean) => void;

export interface SubscribeOptions {
  /**
   * Also hand over, first and marked `past`, what was appended during this many milliseconds before
   * the call (by the bus's clock: Kafka record timestamps, the messages' `sentAt` in the SQLite log);
   * subscribe resolves once they have been handed over (or after a bounded wait). Only a handle's
   * first subscriber gets them: a handle reads the log once for all its subscribers.
   */
  pastMs?: number;
}

export type Unsubscribe = () => Promise<void>;

/**
 * The message bus between nodes. The in-process adapter serves the one-process default; the Kafka
 * adapter bridges replicas. Both assign `seq` at durable append, so every reader sees a room's
 * messages in one order with the same positions.
 */
export interface MessageBus {
  /**
   * Append a message durably and resolve with it stamped with its `seq`. Rejects with
   * BusUnavailableError within the configured timeout, and at once when too many publishes are already
   * waiting; never queues without bound. A publish that timed out while its request was on the wire
   * may still have been appended (at least once; the error's `outcome` is then `unknown`): readers
   * keep the first copy of a client message (lib/delivery/duplicates.ts).
   */
  publish(draft: MessageDraft): Promise<LoggedMessage>;
  /**
   * Receive every room's messages published after the returned promise resolves, in `seq` order per
   * room, each once. Delivery pauses while the bus is unreachable and resumes where it was.
   */
  subscribe(handler: BusListener, options?: SubscribeOptions): Promise<Unsubscribe>;
  /**
   * Resolves once this handle's subscribers have been handed every message of the room that was
   * published before the call (a replica's live reader may lag the publisher by a fetch). A replay
   * uses it to tell missed messages from live ones. Rejects with BusUnavailableError after timeoutMs.
   */
  caughtUp(roomId: string, timeoutMs: number): Promise<void>;
  /**
   * Consume as a durable, named reader (for the backlog writer): messages are handed over in batches
   * from the last committed position (a new group starts at the oldest retained message), and the
   * position is committed only after the handler resolves. A rejected batch is retried with backoff,
   * holding that reader's progress until it succeeds. Readers of one group share the work: in Kafka
   * by partition, in the embedded bus one at a time (the next takes over when the active one stops).
   */
  consume(group: string, handler: (batch: LoggedMessage[]) => Promise<void>): Promise<Unsubscribe>;
  /**
   * The epoch of the log the room's messages are appended to now (every message carries it): the
   * Kafka topic's id and the room's partition, or the id of the SQLite log file. It changes when the
   * log starts again, and then the room's earlier seqs no longer compare with new ones.
   */
  epochOf(roomId: string): string;
  /** Like publish, for control events (lib/chat/control.ts); they keep their order per controlKey. */
  publishControl(event: ControlEvent): Promise<void>;
  /** Receive every control event published after the returned promise resolves, on every node. */
  subscribeControl(handler: (event: ControlEvent) => void): Promise<Unsubscribe>;
  /** Stop this handle's subscribers and readers and release its connections. */
  close(): Promise<void>;
}
