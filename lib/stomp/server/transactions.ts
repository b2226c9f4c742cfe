import type { Frame } from "../codec/frame.ts";
import { StompError } from "./errors.ts";
import { frameBytes, type HoldLedger } from "./holdings.ts";

/**
 * Open STOMP transactions of one connection: SEND and ACK/NACK frames held until COMMIT (run in
 * order) or ABORT (dropped). At most `maxOpen` at once; their frames count against the connection's
 * ledger (kind "transactions"), so a client that never commits cannot grow server memory.
 */
export class TransactionLog {
  private readonly open = new Map<string, { frames: Frame[]; bytes: number }>();

  constructor(
    private readonly maxOpen: number,
    private readonly ledger: HoldLedger,
  ) {}

  begin(name: string): void {
    if (this.open.has(name))
      throw new StompError("transaction already started", `transaction ${name} is open`);
    if (this.open.size >= this.maxOpen) {
      throw new StompError("limit exceeded: transactions", `at most ${this.maxOpen} open transactions`);
    }
    this.open.set(name, { frames: [], bytes: 0 });
  }

  /** Throws unless the transaction was begun (checked before a SEND is vetted for it). */
  require(name: string): void {
    if (!this.open.has(name))
      throw new StompError("unknown transaction", `transaction ${name} was not begun`);
  }

  add(name: string, frame: Frame): void {
    const tx = this.open.get(name);
    if (!tx) throw new StompError("unknown transaction", `transaction ${name} was not begun`);
    const bytes = frameBytes(frame);
    this.ledger.take("transactions", 1, bytes);
    tx.frames.push(frame);
    tx.bytes += bytes;
  }

  /** Ends the transaction and returns its frames (COMMIT runs them, ABORT drops them). */
  take(name: string): Frame[] {
    const tx = this.open.get(name);
    if (!tx) throw new StompError("unknown transaction", `transaction ${name} was not begun`);
    this.open.delete(name);
    this.ledger.release("transactions", tx.frames.length, tx.bytes);
    return tx.frames;
  }
}
