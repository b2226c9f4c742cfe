import type { ChatMessage, MessageDraft } from "../chat/message.ts";

/**
 * Control events travel beside messages so every node learns of membership changes without polling.
 * `member-removed`: the user left or was removed; `room-deleted`: the room is gone.
 */
export type ControlEvent =
  | { type: "member-removed"; roomId: string; userId: string }
  | { type: "room-deleted"; roomId: string };

/** Raised when the bus cannot durably accept a message within the configured time. */
export class BusUnavailableError extends Error {
  override readonly name = "BusUnavailableError";
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
   * BusUnavailableError within the configured timeout; never queues without bound.
   */
  publish(draft: MessageDraft): Promise<ChatMessage>;
  /** Receive every room's messages published from now on, in `seq` order per room. */
  subscribe(handler: (message: ChatMessage) => void): Promise<Unsubscribe>;
  /**
   * Consume as a durable, named reader (for the backlog writer): messages are handed over in batches
   * from the last committed position, and the position is committed only after the handler resolves.
   */
  consume(group: string, handler: (batch: ChatMessage[]) => Promise<void>): Promise<Unsubscribe>;
  publishControl(event: ControlEvent): Promise<void>;
  subscribeControl(handler: (event: ControlEvent) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}
