import { TokenBucket } from "../../ratelimit/token-bucket.ts";
import type { Frame } from "../codec/frame.ts";
import { RefusedError } from "./errors.ts";
import type { EndpointStats } from "./stats.ts";

/**
 * A connection's SENDs as they arrive, before they wait their turn: each is charged to the SEND
 * rate limit when it is parsed, so a sender within the limit is never refused for time its frames
 * spent waiting (a bus stall), and one over it is told at once. A refusal the client cannot be
 * told at once (it does not listen for notices) is kept for the frame's turn, so that its ERROR
 * follows the answers to what came before it.
 */
export class SendArrivals {
  private bucket: TokenBucket | undefined;
  private readonly charged = new WeakSet<Frame>();
  private readonly deferred = new WeakMap<Frame, RefusedError>();

  constructor(
    private readonly rate: { perSec: number; burst: number },
    private readonly stats: EndpointStats,
    /** The bucket of a kind of SEND that has its own (the app's sendBudget); else the SEND bucket. */
    private readonly budgetOf: (frame: Frame) => TokenBucket | undefined = () => undefined,
  ) {}

  /** Charges a SEND to its rate limit; the refusal when it is over it. */
  charge(frame: Frame): RefusedError | undefined {
    this.bucket ??= new TokenBucket(this.rate.perSec, this.rate.burst);
    const bucket = this.budgetOf(frame) ?? this.bucket;
    if (bucket.tryTake()) {
      this.charged.add(frame);
      return undefined;
    }
    this.stats.rateLimited++;
    const retryAfterMs = bucket.msUntil();
    return new RefusedError("rate_limited", `rate limited: retry after ${retryAfterMs} ms`, { retryAfterMs });
  }

  /** Keeps a refusal for the frame's turn. */
  defer(frame: Frame, refusal: RefusedError): void {
    this.deferred.set(frame, refusal);
  }

  /**
   * In the SEND's turn: throws the refusal kept for it, else charges it now if it was not charged on
   * arrival (it arrived before CONNECT was handled, or it is a transaction's SEND being committed).
   */
  beforeSend(frame: Frame): void {
    const refusal = this.deferred.get(frame);
    if (refusal) {
      this.deferred.delete(frame);
      throw refusal;
    }
    if (this.charged.delete(frame)) return;
    const late = this.charge(frame);
    if (late) throw late;
  }
}

/** Too many frames already wait on the connection: this SEND is refused, certainly not written. */
export function tooManyWaiting(max: number): RefusedError {
  return new RefusedError(
    "unavailable",
    `too many frames waiting on this connection (at most ${max}); send it again once earlier SENDs are answered`,
    { outcome: "not_written" },
  );
}
