import type { Frame } from "../codec/frame.ts";
import { StompError } from "./errors.ts";

export interface TransactionLimits {
  maxOpen: number;
  maxFramesEach: number;
}

/**
 * Open STOMP transactions of one connection: SEND and ACK/NACK frames held until COMMIT (run in
 * order) or ABORT (dropped). Bounded so a client cannot grow server memory by never committing.
 */
export class TransactionLog {
  private readonly open = new Map<string, Frame[]>();

  constructor(private readonly limits: TransactionLimits) {}

  begin(name: string): void {
    if (this.open.has(name))
      throw new StompError("transaction already started", `transaction ${name} is open`);
    if (this.open.size >= this.limits.maxOpen) {
      throw new StompError(
        "limit exceeded: transactions",
        `at most ${this.limits.maxOpen} open transactions`,
      );
    }
    this.open.set(name, []);
  }

  add(name: string, frame: Frame): void {
    const frames = this.open.get(name);
    if (!frames) throw new StompError("unknown transaction", `transaction ${name} was not begun`);
    if (frames.length >= this.limits.maxFramesEach) {
      throw new StompError("limit exceeded: transaction size", `at most ${this.limits.maxFramesEach} frames`);
    }
    frames.push(frame);
  }

  /** Ends the transaction and returns its frames (COMMIT runs them, ABORT drops them). */
  take(name: string): Frame[] {
    const frames = this.open.get(name);
    if (!frames) throw new StompError("unknown transaction", `transaction ${name} was not begun`);
    this.open.delete(name);
    return frames;
  }
}
