import type { RoomSignal } from "../../signals/types.ts";
import type { Actor, ChatContext } from "../context.ts";
import type { ChatMessage } from "../message.ts";

/** A MESSAGE body on a signal destination (JSON). */
export type SignalBody = Record<string, unknown>;

/**
 * What one node keeps of one room for one kind of signal, while it has subscribers there: it folds
 * the signals (from every node) into what those subscribers see, and says when that changed.
 */
export interface SignalState {
  /** A signal from the bus; true when what subscribers see changed. */
  apply(signal: RoomSignal, now: number): boolean;
  /** Time passing (expiry); true when what subscribers see changed. */
  tick(now: number): boolean;
  /** A line of the room's log was delivered (a message ends its sender's typing); true when that changed something. */
  onRoomEvent(m: ChatMessage): boolean;
  /** The body telling subscribers what changed since the last flush; undefined when nothing did. */
  flush(): SignalBody | undefined;
  /** What a new subscriber gets first from this state, if anything. */
  current(): SignalBody | undefined;
}

/**
 * One kind of ephemeral signal: its destination (`/topic/rooms/<id>/<name>`), what clients may send
 * there, how it is coalesced, and what subscribers receive. Adding a kind is adding one of these to
 * SIGNAL_KINDS (with its protocol section and tests); the ws-node's fan-out and the SignalBus carry
 * any kind unchanged.
 */
export interface SignalKind {
  readonly name: string;
  /**
   * For kinds clients SEND: the signal data from a SEND body, or a ChatError("invalid"). Kinds without
   * it are read-only (the server makes them).
   */
  readonly fromClient?: (body: unknown) => Record<string, unknown>;
  /**
   * For kinds clients SEND often (typing): the few SEND bodies, exactly as clients write them, that
   * need no JSON parse or schema (see `legalBodies`); any other body goes through fromClient.
   */
  readonly legalBodies?: ReadonlyMap<string, LegalBody>;
  /**
   * At the node a client sends to: the same data from the same member again within this many ms is not
   * passed on (a client repeating "still typing" costs the other nodes nothing until it matters).
   */
  readonly refreshMs: number;
  /** Subscribers get at most one MESSAGE per room per this many ms. */
  readonly flushMs: number;
  newState(roomId: string): SignalState;
  /**
   * A snapshot a new subscriber gets from the stores (rather than from this node's state), e.g. every
   * member's read position.
   */
  readonly snapshot?: (c: ChatContext, actor: Actor, roomId: string) => Promise<SignalBody | undefined>;
}

/** A SEND body legal exactly as it stands: the data fromClient makes of it, and that data as JSON. */
export interface LegalBody {
  readonly data: Record<string, unknown>;
  readonly json: string;
}

/**
 * The fast path's table of legal bodies, made by fromClient itself (so the fast path cannot accept
 * what the slow one would refuse, nor read a body differently); each body must be accepted.
 */
export function legalBodies(
  fromClient: (body: unknown) => Record<string, unknown>,
  bodies: readonly string[],
): ReadonlyMap<string, LegalBody> {
  return new Map(
    bodies.map((body) => {
      const data = Object.freeze(fromClient(JSON.parse(body)));
      return [body, Object.freeze({ data, json: JSON.stringify(data) })];
    }),
  );
}
