import type { Frame } from "../lib/stomp/codec/frame.ts";
import { RawStomp } from "./raw-stomp.ts";

/** One logical message of a RetryingSender: one client message id, however many attempts. */
export interface Outgoing {
  id: string;
  text: string;
  attempts: number;
  /** The RECEIPT's seq once one came (first RECEIPT wins). */
  seq?: number;
}

/**
 * A sender as a careful chat client behaves: every SEND carries x-client-msg-id and a receipt, and
 * every message not receipted is sent again with the same id — after a refusal, after no answer in
 * time, after the connection was lost (then from a connection to the next node in `urls`).
 */
export class RetryingSender {
  readonly outbox = new Map<string, Outgoing>();
  refusals = new Map<string, number>();
  reconnects = 0;
  private conn: RawStomp | undefined;
  private node = 0;
  private stopped = false;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly urls: string[],
    private readonly token: string,
    private readonly destination: string,
    start: number,
    private readonly answerTimeoutMs = 8_000,
  ) {
    this.node = start;
  }

  async connect(): Promise<void> {
    while (!this.stopped) {
      try {
        const conn = await RawStomp.connect(this.urls[this.node % this.urls.length]!, this.token);
        conn.sendFrame("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
        conn.onFrame = (f) => this.onFrame(f);
        this.conn = conn;
        void conn.closed.then(() => this.lost(conn));
        for (const o of this.outbox.values()) if (o.seq === undefined) this.attempt(o);
        return;
      } catch {
        this.node++;
        await Bun.sleep(300);
      }
    }
  }

  send(id: string, text: string): void {
    const o: Outgoing = { id, text, attempts: 0 };
    this.outbox.set(id, o);
    this.attempt(o);
  }

  get unreceipted(): number {
    let n = 0;
    for (const o of this.outbox.values()) if (o.seq === undefined) n++;
    return n;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.conn?.close();
  }

  private attempt(o: Outgoing): void {
    const conn = this.conn;
    if (!conn || conn.isClosed || o.seq !== undefined || this.stopped) return;
    o.attempts++;
    clearTimeout(this.timers.get(o.id));
    this.timers.set(
      o.id,
      setTimeout(() => this.attempt(o), this.answerTimeoutMs),
    );
    conn.sendFrame(
      "SEND",
      { destination: this.destination, receipt: `${o.id}#${o.attempts}`, "x-client-msg-id": o.id },
      JSON.stringify({ text: o.text }),
    );
  }

  private onFrame(f: Frame): void {
    const receipt = f.headers["receipt-id"];
    const o = receipt ? this.outbox.get(receipt.slice(0, receipt.lastIndexOf("#"))) : undefined;
    if (!o || o.seq !== undefined) return;
    if (f.command === "RECEIPT") {
      o.seq = Number(f.headers.seq);
      clearTimeout(this.timers.get(o.id));
    } else if (f.command === "MESSAGE") {
      const code = (JSON.parse(new TextDecoder().decode(f.body)) as { code: string }).code;
      this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
      clearTimeout(this.timers.get(o.id));
      // Backs off as a real client does, so a long outage is not a storm of retries.
      this.timers.set(
        o.id,
        setTimeout(() => this.attempt(o), Math.min(5_000, 150 * 2 ** Math.min(o.attempts, 6))),
      );
    }
  }

  private lost(conn: RawStomp): void {
    if (this.conn !== conn || this.stopped) return;
    this.conn = undefined;
    this.reconnects++;
    this.node++;
    setTimeout(() => void this.connect(), 200);
  }
}

/** A member who resumes with x-since-seq after every lost connection; keeps every delivery. */
export class ResumingReceiver {
  readonly deliveries: { seq: number; clientMsgId?: string; text: string }[] = [];
  private lastSeq = 0;
  private stopped = false;
  private conn: RawStomp | undefined;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly destination: string,
  ) {}

  async connect(): Promise<void> {
    while (!this.stopped) {
      try {
        const conn = await RawStomp.connect(this.url, this.token);
        conn.onFrame = (f) => {
          if (f.command !== "MESSAGE" || f.headers.subscription !== "room") return;
          const m = JSON.parse(new TextDecoder().decode(f.body)) as {
            seq: number;
            clientMsgId?: string;
            text: string;
          };
          this.deliveries.push({ seq: m.seq, clientMsgId: m.clientMsgId, text: m.text });
          this.lastSeq = Math.max(this.lastSeq, m.seq);
        };
        const headers: Record<string, string> = { id: "room", destination: this.destination };
        if (this.lastSeq > 0) headers["x-since-seq"] = String(this.lastSeq);
        conn.sendFrame("SUBSCRIBE", headers);
        this.conn = conn;
        void conn.closed.then(() => {
          if (this.conn === conn && !this.stopped) setTimeout(() => void this.connect(), 200);
        });
        return;
      } catch {
        await Bun.sleep(300);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.conn?.close();
  }
}
