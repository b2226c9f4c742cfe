/** A cap on things held open at once (requests in flight, WebSockets): in total and per client address. */
export interface Caps {
  total: number;
  perIp: number;
}

/** Why a connection was refused: the process is full, or this address has its share. */
export type Refusal = "total" | "per-ip";

/**
 * Counts what is open, in total and by client address, so one address cannot take all of a process's
 * sockets (or file descriptors) and nobody can take more than the process can hold. Addresses with
 * nothing open are forgotten, so the map never outgrows what is open.
 */
export class ConnectionCounter {
  private readonly byIp = new Map<string, number>();
  private open = 0;

  constructor(readonly caps: Caps) {}

  get size(): number {
    return this.open;
  }

  /** What would refuse one more from `ip`, or undefined when it fits. */
  refusal(ip: string): Refusal | undefined {
    if (this.open >= this.caps.total) return "total";
    if ((this.byIp.get(ip) ?? 0) >= this.caps.perIp) return "per-ip";
    return undefined;
  }

  /** Counts one more from `ip` if it fits. */
  tryAcquire(ip: string): Refusal | undefined {
    const refused = this.refusal(ip);
    if (!refused) this.acquire(ip);
    return refused;
  }

  /** Counts one more whether or not it fits (it was admitted by an earlier refusal() check). */
  acquire(ip: string): void {
    this.open++;
    this.byIp.set(ip, (this.byIp.get(ip) ?? 0) + 1);
  }

  release(ip: string): void {
    const n = this.byIp.get(ip);
    if (n === undefined) return;
    this.open--;
    if (n <= 1) this.byIp.delete(ip);
    else this.byIp.set(ip, n - 1);
  }
}
