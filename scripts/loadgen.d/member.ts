import type { Account } from "./api.ts";
import type { Delivery, MemberLog, ResumeMode } from "./checker.ts";
import { type Closed, type Frame, StompConnection } from "./stomp.ts";

/** One logical message: one x-client-msg-id, however many attempts it takes. */
export interface Outgoing {
  id: string;
  room: string;
  text: string;
  firstSentAt: number;
  /** When each attempt went out, by attempt number (1, 2, ...). */
  attemptSentAt: number[];
  /** When the attempt the server accepted (the one whose RECEIPT came) went out. */
  acceptedSentAt?: number;
  attempts: number;
  receipted: boolean;
  /** Refused for good (invalid, forbidden) or given up at the end of the run. */
  final?: string;
}

/** What every member reports to the run: counters and latencies. */
export interface Tally {
  refusals: Map<string, number>;
  closes: Map<string, number>;
  errors: Map<string, number>;
  timeouts: number;
  retries: number;
  reconnects: number;
  connectFailures: number;
  delivered: number;
  /**
   * [arrival time, end-to-end ms from the first attempt, 1 when it came in a replay, message id] of each
   * first delivery of a message to a member.
   */
  latencies: [number, number, number, string][];
  onReceipt(o: Outgoing): void;
}

const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

export interface MemberOptions {
  wsUrl: string;
  receiptTimeoutMs: number;
  maxAttempts: number;
  /** Logical ids of everything sent in the run, with their first send time. */
  sentAt: Map<string, number>;
  /** A fresh access token for a user whose token the server refused (expired during a long run). */
  relogin?: (username: string) => Promise<string>;
}

/**
 * A chat user with one connection, subscribed to its rooms, as a real client would behave: it
 * reconnects by itself, resumes with x-since-seq (or from its stored read position), keeps an outbox
 * of messages not yet receipted and sends each again with the same x-client-msg-id after a refusal,
 * a receipt timeout or a lost connection.
 */
export class Member {
  conn: StompConnection | undefined;
  state: "down" | "connecting" | "up" = "down";
  /** Set while the run wants this member online (churn and the end of the run clear it briefly). */
  wanted = true;
  readonly logs = new Map<string, MemberLog>();
  private readonly lastSeq = new Map<string, number>();
  private readonly subOf = new Map<string, number>();
  readonly outbox = new Map<string, Outgoing>();
  private readonly inFlight = new Map<string, { o: Outgoing; timer: ReturnType<typeof setTimeout> }>();
  private readonly firstDelivered = new Set<string>();
  private lastEndAbnormal = false;
  private connectAttempts = 0;

  constructor(
    readonly account: Account,
    readonly rooms: string[],
    readonly mode: ResumeMode,
    private readonly o: MemberOptions,
    private readonly tally: Tally,
  ) {
    for (const room of rooms) {
      this.logs.set(room, { member: account.username, room, mode, deliveries: [], abnormalBefore: [] });
    }
  }

  /** Connects (retrying with backoff while wanted) and subscribes; resolves once up or no longer wanted. */
  async connect(): Promise<void> {
    if (this.state !== "down") return;
    this.state = "connecting";
    while (this.wanted) {
      try {
        const conn = await StompConnection.connect(this.o.wsUrl, this.account.token);
        this.connectAttempts = 0;
        this.up(conn);
        return;
      } catch (err) {
        this.tally.connectFailures++;
        if (this.o.relogin && /token|expired|auth/i.test(String(err))) {
          this.account.token = await this.o.relogin(this.account.username).catch(() => this.account.token);
        }
        this.connectAttempts++;
        await Bun.sleep(
          Math.min(5_000, 100 * 2 ** Math.min(this.connectAttempts, 6)) * (0.5 + Math.random()),
        );
      }
    }
    this.state = "down";
  }

  private up(conn: StompConnection): void {
    this.conn = conn;
    this.state = "up";
    conn.onFrame = (f) => this.onFrame(f);
    void conn.closed.then((c) => this.onClosed(conn, c));
    conn.send("SUBSCRIBE", { id: "errors", destination: "/user/queue/errors" });
    for (const room of this.rooms) {
      const log = this.logs.get(room)!;
      const sub = (this.subOf.get(room) ?? -1) + 1;
      this.subOf.set(room, sub);
      log.abnormalBefore[sub] = sub > 0 && this.lastEndAbnormal;
      this.subscribe(conn, room);
    }
    for (const o of this.outbox.values()) if (!this.inFlight.has(o.id)) this.attempt(o);
  }

  private subscribe(conn: StompConnection, room: string): void {
    const headers: Record<string, string> = {
      id: `room-${room}`,
      destination: `/topic/rooms/${room}`,
      ack: "auto",
    };
    const since = this.lastSeq.get(room);
    if (this.mode === "since" && since !== undefined) headers["x-since-seq"] = String(since);
    conn.send("SUBSCRIBE", headers);
  }

  /** Queues a message; it goes out now when connected, else on the next connect. */
  send(o: Outgoing): void {
    this.outbox.set(o.id, o);
    if (this.state === "up") this.attempt(o);
  }

  private attempt(o: Outgoing): void {
    if (!this.conn || this.state !== "up" || o.receipted || o.final) return;
    if (o.attempts >= this.o.maxAttempts) {
      o.final = "gave up";
      this.outbox.delete(o.id);
      return;
    }
    o.attempts++;
    o.attemptSentAt[o.attempts] = performance.now();
    if (o.attempts > 1) this.tally.retries++;
    const receipt = `${o.id}.${o.attempts}`;
    const timer = setTimeout(() => {
      if (this.inFlight.get(o.id)?.timer !== timer) return;
      this.inFlight.delete(o.id);
      this.tally.timeouts++;
      this.attempt(o);
    }, this.o.receiptTimeoutMs);
    this.inFlight.set(o.id, { o, timer });
    this.conn.send(
      "SEND",
      {
        destination: `/topic/rooms/${o.room}`,
        "content-type": "application/json",
        "x-client-msg-id": o.id,
        receipt,
      },
      JSON.stringify({ text: o.text }),
    );
  }

  private settle(id: string): Outgoing | undefined {
    const f = this.inFlight.get(id);
    if (f) clearTimeout(f.timer);
    this.inFlight.delete(id);
    return f?.o ?? this.outbox.get(id);
  }

  private onFrame(f: Frame): void {
    if (f.command === "RECEIPT") {
      const receipt = f.headers["receipt-id"] ?? "";
      const id = f.headers["receipt-id"]?.replace(/\.\d+$/, "");
      const o = id === undefined ? undefined : this.settle(id);
      if (o && !o.receipted) {
        o.receipted = true;
        o.acceptedSentAt = o.attemptSentAt[Number(receipt.slice(receipt.lastIndexOf(".") + 1))];
        this.outbox.delete(o.id);
        this.tally.onReceipt(o);
      }
      return;
    }
    if (f.command === "ERROR") {
      bump(this.tally.errors, f.headers.message ?? "ERROR");
      return;
    }
    if (f.command !== "MESSAGE") return;
    if (f.headers.subscription === "errors") {
      this.onNotice(f);
      return;
    }
    const room = f.headers.subscription?.replace(/^room-/, "");
    const log = room === undefined ? undefined : this.logs.get(room);
    if (!room || !log) return;
    const m = JSON.parse(f.body) as { seq: number; type: string; text?: string };
    const id = m.type === "message" ? /^lg ([\w-]+) /.exec(m.text ?? "")?.[1] : undefined;
    const d: Delivery = {
      seq: m.seq,
      replay: f.headers["x-replay"] === "true",
      sub: this.subOf.get(room) ?? 0,
    };
    if (id) d.id = id;
    log.deliveries.push(d);
    this.lastSeq.set(room, Math.max(this.lastSeq.get(room) ?? 0, m.seq));
    this.tally.delivered++;
    if (id && !this.firstDelivered.has(id)) {
      this.firstDelivered.add(id);
      const sentAt = this.o.sentAt.get(id);
      if (sentAt !== undefined) {
        const now = performance.now();
        this.tally.latencies.push([now, now - sentAt, d.replay ? 1 : 0, id]);
      }
    }
  }

  /**
   * A refused SEND: retried with the same id when the refusal says that may work. A refused SUBSCRIBE
   * (the store was unavailable) is sent again after the wait it asks for, on the same connection.
   */
  private onNotice(f: Frame): void {
    const n = JSON.parse(f.body) as { code: string; retryAfterMs?: number; subscription?: string };
    bump(this.tally.refusals, n.code);
    const room = n.subscription?.startsWith("room-") ? n.subscription.slice(5) : undefined;
    if (n.code === "store_unavailable" && room !== undefined && this.logs.has(room)) {
      const conn = this.conn;
      setTimeout(() => {
        if (conn && this.conn === conn && this.state === "up") this.subscribe(conn, room);
      }, n.retryAfterMs ?? 1_000);
      return;
    }
    const id = f.headers["receipt-id"]?.replace(/\.\d+$/, "");
    const o = id === undefined ? undefined : this.settle(id);
    if (!o || o.receipted) return;
    if (n.code === "rate_limited" || n.code === "unavailable" || n.code === "store_unavailable") {
      const wait =
        n.code === "unavailable"
          ? Math.min(5_000, 250 * 2 ** Math.min(o.attempts, 5))
          : (n.retryAfterMs ?? 100);
      setTimeout(() => this.attempt(o), wait);
    } else {
      o.final = n.code;
      this.outbox.delete(o.id);
    }
  }

  private onClosed(conn: StompConnection, c: Closed): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.state = "down";
    bump(this.tally.closes, c.by === "server" ? String(c.code) : c.by);
    // Clean: our DISCONNECT confirmed by its RECEIPT, or the server's own 1000/1001 (it saved first).
    this.lastEndAbnormal = c.by === "server" ? c.code !== 1000 && c.code !== 1001 : c.by !== "disconnect";
    for (const { timer } of this.inFlight.values()) clearTimeout(timer);
    this.inFlight.clear();
    if (!this.wanted) return;
    this.tally.reconnects++;
    // A drained node says 1001: reconnect at once (with jitter); anything else backs off a little.
    const delay = c.code === 1001 ? 50 + Math.random() * 450 : 200 + Math.random() * 800;
    setTimeout(() => void this.connect(), delay);
  }

  /** Churn: leave (cleanly, or by cutting the socket like a crashed client), to come back later. */
  async leave(how: "disconnect" | "kill"): Promise<void> {
    this.wanted = false;
    const conn = this.conn;
    if (!conn) return;
    if (how === "kill") conn.kill();
    else await conn.disconnect();
    await conn.closed;
  }

  /** Everything this member should have: are all these ids delivered in every one of its rooms? */
  has(idsByRoom: Map<string, Set<string>>): boolean {
    for (const [room, log] of this.logs) {
      const want = idsByRoom.get(room);
      if (!want || want.size === 0) continue;
      const got = new Set(log.deliveries.map((d) => d.id));
      for (const id of want) if (!got.has(id)) return false;
    }
    return true;
  }
}
