/**
 * A small STOMP 1.2 client over a WebSocket, written for the load generator: it speaks only the
 * public protocol (docs/protocol.md), shows every header the server sends (x-replay, receipt-id) and
 * tells how each connection ended, which the checker needs. No reconnect logic: the caller owns it.
 */

export interface Frame {
  command: string;
  headers: Record<string, string>;
  body: string;
}

const unescapeValue = (v: string) =>
  v.replace(/\\([rnc\\])/g, (_, c: string) => (c === "r" ? "\r" : c === "n" ? "\n" : c === "c" ? ":" : "\\"));
const escapeValue = (v: string) =>
  v.replace(/\\/g, "\\\\").replace(/\r/g, "\\r").replace(/\n/g, "\\n").replace(/:/g, "\\c");

export function encodeFrame(command: string, headers: Record<string, string>, body = ""): string {
  const lines = Object.entries(headers).map(([k, v]) => `${escapeValue(k)}:${escapeValue(v)}`);
  return `${command}\n${lines.join("\n")}\n\n${body}\0`;
}

/** Splits a text stream into frames; heart-beat newlines between frames are skipped. */
export class FrameReader {
  private buffer = "";

  push(chunk: string): Frame[] {
    this.buffer += chunk;
    const frames: Frame[] = [];
    for (;;) {
      const end = this.buffer.indexOf("\0");
      if (end < 0) break;
      const raw = this.buffer.slice(0, end).replace(/^[\r\n]+/, "");
      this.buffer = this.buffer.slice(end + 1);
      if (raw === "") continue;
      const split = raw.indexOf("\n\n");
      const head = (split < 0 ? raw : raw.slice(0, split)).split("\n").map((l) => l.replace(/\r$/, ""));
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        const key = unescapeValue(line.slice(0, colon));
        if (!(key in headers)) headers[key] = unescapeValue(line.slice(colon + 1)); // the first one wins
      }
      frames.push({ command: head[0] ?? "", headers, body: split < 0 ? "" : raw.slice(split + 2) });
    }
    this.buffer = this.buffer.replace(/^[\r\n]+/, "");
    return frames;
  }
}

export interface Closed {
  code: number;
  reason: string;
  /**
   * We closed it on purpose: DISCONNECT answered by its RECEIPT (clean: the server saved the read
   * positions), DISCONNECT without a RECEIPT in time (not confirmed), or a simulated crash (kill).
   */
  by: "server" | "disconnect" | "disconnect-unconfirmed" | "kill";
}

/**
 * One STOMP connection. `connect` resolves on CONNECTED; `onFrame` sees every later frame; `closed`
 * resolves once, however the socket ended.
 */
export class StompConnection {
  private readonly reader = new FrameReader();
  private readonly ws: WebSocket;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closing: Closed["by"] = "server";
  readonly closed: Promise<Closed>;
  onFrame: (f: Frame) => void = () => {};

  private constructor(url: string) {
    this.ws = new WebSocket(url, ["v12.stomp"]);
    this.closed = new Promise((resolve) => {
      this.ws.addEventListener("close", (e) => {
        if (this.heartbeat) clearInterval(this.heartbeat);
        resolve({ code: e.code, reason: e.reason, by: this.closing });
      });
    });
    this.ws.addEventListener("message", (e) => {
      const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer);
      for (const f of this.reader.push(text)) this.onFrame(f);
    });
  }

  static async connect(url: string, token: string, timeoutMs = 10_000): Promise<StompConnection> {
    const c = new StompConnection(url);
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no CONNECTED in time")), timeoutMs);
      c.onFrame = (f) => {
        clearTimeout(timer);
        if (f.command === "CONNECTED") resolve();
        else reject(new Error(`${f.command}: ${f.headers.message ?? f.body}`));
      };
      c.ws.addEventListener("open", () => {
        c.ws.send(
          encodeFrame("CONNECT", {
            "accept-version": "1.2",
            host: "/",
            "heart-beat": "10000,10000",
            Authorization: `Bearer ${token}`,
          }),
        );
      });
      void c.closed.then((e) => {
        clearTimeout(timer);
        reject(new Error(`closed before CONNECTED (${e.code} ${e.reason})`));
      });
    });
    try {
      await connected;
    } catch (err) {
      c.kill();
      throw err;
    }
    c.onFrame = () => {};
    // Our side of the 10 s heart-beat: a newline every 5 s keeps the server from timing us out.
    c.heartbeat = setInterval(() => c.ws.readyState === WebSocket.OPEN && c.ws.send("\n"), 5_000);
    return c;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(command: string, headers: Record<string, string>, body = ""): boolean {
    if (!this.open) return false;
    this.ws.send(encodeFrame(command, headers, body));
    return true;
  }

  /** A clean end: DISCONNECT with a receipt (the server saves the read positions), then close. */
  async disconnect(timeoutMs = 5_000): Promise<void> {
    this.closing = "disconnect";
    const receipt = `bye-${Math.random().toString(36).slice(2)}`;
    const done = new Promise<void>((resolve) => {
      const prev = this.onFrame;
      this.onFrame = (f) => {
        if (f.command === "RECEIPT" && f.headers["receipt-id"] === receipt) resolve();
        else prev(f);
      };
    });
    let confirmed = false;
    if (this.send("DISCONNECT", { receipt })) {
      confirmed = await Promise.race([done.then(() => true), Bun.sleep(timeoutMs).then(() => false)]);
    }
    if (!confirmed) this.closing = "disconnect-unconfirmed";
    this.ws.close(1000);
    await this.closed;
  }

  /** A client crash: the socket is cut without a close handshake. */
  kill(): void {
    this.closing = "kill";
    const ws = this.ws as WebSocket & { terminate?: () => void };
    if (ws.terminate) ws.terminate();
    else ws.close();
  }
}
