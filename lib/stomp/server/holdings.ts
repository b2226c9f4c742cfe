import type { Frame, Headers } from "../codec/frame.ts";
import { StompError } from "./errors.ts";

/**
 * Everything a client can make a node hold, bounded in counts and bytes, per connection and per user
 * (all of one user's connections to this node). A connection's ledger takes from its user's, so one
 * account cannot multiply a per-connection bound by opening more connections.
 */
export type HeldKind = "queued" | "transactions" | "subscriptions" | "pendingAcks";

export interface Bound {
  count: number;
  bytes: number;
}

export type HoldLimits = Record<HeldKind, { perConnection: Bound; perUser: Bound }>;

/** What the client is told names each kind. */
const NAMES: Record<HeldKind, string> = {
  queued: "frames in flight",
  transactions: "transaction frames",
  subscriptions: "subscriptions",
  pendingAcks: "unacknowledged messages",
};

/** Bytes a pending ack costs: one number in a list. */
export const PENDING_ACK_BYTES = 8;

type Scope = "perConnection" | "perUser";

/**
 * Counts what one connection (or one user) holds, per kind. `take` refuses — holding nothing more —
 * when a bound of this ledger or its parent would be passed; the error names the bound.
 */
export class HoldLedger {
  private readonly held = new Map<HeldKind, Bound>();
  private parent: HoldLedger | undefined;
  private closed = false;

  constructor(
    private readonly limits: HoldLimits,
    private readonly scope: Scope,
  ) {}

  /** What this ledger holds of a kind (for tests and metrics). */
  usage(kind: HeldKind): Readonly<Bound> {
    return this.held.get(kind) ?? { count: 0, bytes: 0 };
  }

  /** Throws a StompError naming the bound when `count` items of `bytes` do not fit. */
  take(kind: HeldKind, count: number, bytes: number): void {
    const refusal = this.refusal(kind, count, bytes);
    if (refusal) throw refusal;
    this.add(kind, count, bytes);
  }

  /** Like take, but answers false instead of throwing. */
  tryTake(kind: HeldKind, count: number, bytes: number): boolean {
    if (this.refusal(kind, count, bytes)) return false;
    this.add(kind, count, bytes);
    return true;
  }

  release(kind: HeldKind, count: number, bytes: number): void {
    if (this.closed || count === 0) return;
    this.add(kind, -count, -bytes);
  }

  /** The connection authenticated: from now on its user's ledger bounds it too (and holds what it holds). */
  attach(parent: HoldLedger): void {
    if (this.parent || this.closed) return;
    this.parent = parent;
    for (const [kind, b] of this.held) parent.add(kind, b.count, b.bytes);
  }

  /** The connection closed: its user's ledger gets everything back; later takes and releases are no-ops. */
  close(): void {
    if (this.closed) return;
    for (const [kind, b] of this.held) this.parent?.add(kind, -b.count, -b.bytes);
    this.held.clear();
    this.closed = true;
  }

  private refusal(kind: HeldKind, count: number, bytes: number): StompError | undefined {
    if (this.closed) return undefined;
    const bound = this.limits[kind][this.scope];
    const now = this.usage(kind);
    if (now.count + count > bound.count || now.bytes + bytes > bound.bytes) {
      const who = this.scope === "perConnection" ? "per connection" : "per user on this node";
      return new StompError(
        `limit exceeded: ${NAMES[kind]}`,
        `at most ${bound.count} ${NAMES[kind]} and ${bound.bytes} bytes ${who}`,
      );
    }
    return this.parent?.refusal(kind, count, bytes);
  }

  private add(kind: HeldKind, count: number, bytes: number): void {
    if (this.closed) return;
    const b = this.held.get(kind);
    if (b) {
      b.count += count;
      b.bytes += bytes;
      if (b.count <= 0 && b.bytes <= 0) this.held.delete(kind);
    } else if (count > 0 || bytes > 0) {
      this.held.set(kind, { count, bytes });
    }
    this.parent?.add(kind, count, bytes);
  }
}

/** A ledger for one user's connections on one node. */
export const userLedger = (limits: HoldLimits) => new HoldLedger(limits, "perUser");
/** A ledger for one connection; attach it to its user's once authenticated. */
export const connectionLedger = (limits: HoldLimits) => new HoldLedger(limits, "perConnection");

/** Bytes of a header block as received (names, values, separators). */
export function headerBytes(h: Headers): number {
  let n = 0;
  for (const k in h) n += k.length + h[k]!.length + 2;
  return n;
}

/** Bytes a parsed frame holds, about as many as it took on the wire. */
export function frameBytes(f: Frame): number {
  return f.command.length + 2 + headerBytes(f.headers) + f.body.byteLength;
}
