import type { Frame, StompVersion } from "../lib/stomp/codec/frame.ts";
import { FrameParser } from "../lib/stomp/codec/parser.ts";

/**
 * A byte-level STOMP test client over a real WebSocket: tests send exactly the bytes they mean
 * (malformed frames, split frames, odd line ends) and read the server's frames and heart-beats.
 */
export class RawStomp {
  readonly frames: Frame[] = [];
  /** Every WebSocket message as received, in order (heart-beats are "\n"). */
  readonly messages: (string | Uint8Array)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly parser = new FrameParser(
    { maxBufferedBytes: 1 << 24, maxHeaders: 1000, maxHeaderLineBytes: 1 << 20, maxBodyBytes: 1 << 24 },
    "1.2",
  );
  private waiters: (() => void)[] = [];
  isClosed = false;
  /** Called with each frame as it arrives (before it is queued), e.g. to time it. */
  onFrame: ((f: Frame) => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer);
      this.messages.push(data);
      for (const f of this.parser.push(data)) {
        this.onFrame?.(f);
        this.frames.push(f);
      }
      this.wake();
    };
    this.closed = new Promise((resolve) => {
      ws.onclose = (e) => {
        this.isClosed = true;
        resolve({ code: e.code, reason: e.reason });
        this.wake();
      };
    });
  }

  static open(url: string, protocols?: string[]): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      const client = new RawStomp(ws);
      ws.onopen = () => resolve(client);
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
    });
  }

  /** Opens and sends CONNECT with the token; resolves with CONNECTED (or throws with the ERROR). */
  static async connect(url: string, token: string, extra: Record<string, string> = {}): Promise<RawStomp> {
    const c = await RawStomp.open(url, ["v12.stomp"]);
    c.sendFrame("CONNECT", {
      "accept-version": "1.2",
      host: "chattalk",
      Authorization: `Bearer ${token}`,
      ...extra,
    });
    const f = await c.next();
    if (f.command !== "CONNECTED")
      throw new Error(`expected CONNECTED, got ${f.command}: ${f.headers.message}`);
    return c;
  }

  setVersion(v: StompVersion): void {
    this.parser.version = v;
  }

  send(data: string | Uint8Array): void {
    this.ws.send(data);
  }

  /** Writes a frame without any escaping: tests control the exact bytes. */
  sendFrame(command: string, headers: Record<string, string>, body = ""): void {
    const lines = Object.entries(headers).map(([k, v]) => `${k}:${v}`);
    this.send(`${command}\n${lines.join("\n")}${lines.length ? "\n" : ""}\n${body}\u0000`);
  }

  /** The next frame not yet taken (optionally the next matching one), within the time limit. */
  async next(match?: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = match ? this.frames.findIndex(match) : this.frames.length > 0 ? 0 : -1;
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (this.isClosed) throw new Error(`connection closed while waiting for a frame`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error("timed out waiting for a frame");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Frames of one command received so far, taken out. */
  take(command: string): Frame[] {
    const out = this.frames.filter((f) => f.command === command);
    for (const f of out) this.frames.splice(this.frames.indexOf(f), 1);
    return out;
  }

  body(f: Frame): string {
    return new TextDecoder().decode(f.body);
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
