/**
 * A minimal WebSocket client straight on TCP (Bun.connect) for benchmark client processes. It counts
 * server messages by walking frame headers in each TCP chunk, without an event per message, so one
 * client process can keep up with a server fanning out to a thousand sockets; the client must not be
 * what the benchmark measures. Payloads are only kept while a waiter asks for the next one (setup).
 */
import { connect as netConnect } from "node:net";

const OP_TEXT = 1;
const OP_BINARY = 2;
const OP_CLOSE = 8;
const OP_PING = 9;
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Totals over every connection of a process. */
export const wireTotals = { messages: 0, bytes: 0, closes: 0 };

/** Called after each TCP chunk and each close, for a process that waits for a total. */
export const wireWatch: { afterChunk: (() => void) | undefined } = { afterChunk: undefined };

/** What a WireSocket needs of its TCP connection: Bun's socket or a node:net one. */
interface Transport {
  write(data: Uint8Array | string): void;
  end(): void;
}

/** Where to connect; `localAddress` binds the client side (e.g. 127.0.0.7) to get its own port range. */
export interface WireTarget {
  host: string;
  port: number;
  path: string;
  protocol?: string;
  localAddress?: string;
  /** Installed before the first message arrives (one may come with the upgrade response). */
  onData?: WireSocket["onData"];
}

/** Receives the bytes of a socket's TCP connection until the upgrade, then hands them to the WireSocket. */
interface Upgrading {
  onData(chunk: Buffer): void;
  onClose(): void;
  onError(err: Error): void;
}

export class WireSocket {
  /** Data messages received on this socket. */
  messages = 0;
  closed = false;
  private head: Buffer | undefined;
  private left = 0;
  private opcode = 0;
  private keep: Buffer[] | undefined;
  private waiter: ((payload: string) => void) | undefined;
  private onClosed: (() => void) | undefined;

  /**
   * Set, it receives every data message whole: `buf[start, end)` (a view valid only during the call).
   * Unset, payloads are only walked over and counted, except for `next()`.
   */
  onData: ((buf: Buffer, start: number, end: number) => void) | undefined;

  private constructor(private readonly socket: Transport) {}

  /** Opens a TCP connection and completes the HTTP upgrade at `path`, offering `protocol` if given. */
  static open(host: string, port: number, path: string, protocol?: string): Promise<WireSocket> {
    return WireSocket.connect({ host, port, path, protocol });
  }

  static connect(target: WireTarget): Promise<WireSocket> {
    return new Promise((resolve, reject) => {
      const { host, port, path, protocol } = target;
      let handshake = "";
      let ws: WireSocket | undefined;
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
      const request =
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") +
        "\r\n";
      const upgrading = (transport: Transport): Upgrading => ({
        onData(chunk) {
          if (ws) {
            ws.receive(chunk);
            wireWatch.afterChunk?.();
            return;
          }
          handshake += chunk.toString("latin1");
          const end = handshake.indexOf("\r\n\r\n");
          if (end < 0) return;
          if (!handshake.startsWith("HTTP/1.1 101")) {
            transport.end();
            return reject(new Error(`upgrade refused: ${handshake.split("\r\n")[0]}`));
          }
          ws = new WireSocket(transport);
          ws.onData = target.onData;
          resolve(ws);
          const rest = Buffer.from(handshake.slice(end + 4), "latin1");
          if (rest.length > 0) ws.receive(rest);
        },
        onClose() {
          if (ws) ws.gone();
          else reject(new Error("connection closed during the upgrade"));
        },
        onError(err) {
          if (!ws) reject(err);
        },
      });
      if (target.localAddress) {
        // Bun.connect cannot bind a local address; node:net can.
        const socket = netConnect({ host, port, localAddress: target.localAddress });
        socket.setNoDelay(true);
        const transport: Transport = { write: (d) => socket.write(d), end: () => socket.end() };
        const u = upgrading(transport);
        socket.on("connect", () => socket.write(request));
        socket.on("data", (chunk: Buffer) => u.onData(chunk));
        socket.on("close", () => u.onClose());
        socket.on("error", (err) => u.onError(err));
        return;
      }
      Bun.connect<Upgrading | undefined>({
        hostname: host,
        port,
        data: undefined,
        socket: {
          open(socket) {
            socket.data = upgrading({ write: (d) => socket.write(d), end: () => socket.end() });
            socket.write(request);
          },
          data(socket, chunk) {
            socket.data?.onData(chunk);
          },
          close(socket) {
            socket.data?.onClose();
          },
          error(socket, err) {
            socket.data?.onError(err);
          },
          connectError(_socket, err) {
            reject(err);
          },
        },
      }).catch(reject);
    });
  }

  /** Sends one masked text message. */
  send(payload: string): void {
    const body = utf8.encode(payload);
    const n = body.length;
    const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const frame = new Uint8Array(headLen + 4 + n);
    frame[0] = 0x80 | OP_TEXT;
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65536) {
      frame[1] = 0x80 | 126;
      frame[2] = n >> 8;
      frame[3] = n & 255;
    } else {
      frame[1] = 0x80 | 127;
      new DataView(frame.buffer).setBigUint64(2, BigInt(n));
    }
    const mask = crypto.getRandomValues(new Uint8Array(4));
    frame.set(mask, headLen);
    for (let i = 0; i < n; i++) frame[headLen + 4 + i] = body[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  /** The next data message's payload as text (setup only: CONNECTED, RECEIPT). */
  next(timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error("timed out waiting for a message"));
      }, timeoutMs);
      this.waiter = (payload) => {
        clearTimeout(timer);
        resolve(payload);
      };
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      this.onClosed = resolve;
    });
    this.socket.end();
    return done;
  }

  /** The connection ended (by either side). */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    wireTotals.closes++;
    this.onClosed?.();
    wireWatch.afterChunk?.();
  }

  /** Walks the frames in a TCP chunk; a header split across chunks is kept until the rest arrives. */
  receive(chunk: Buffer): void {
    let buf = chunk;
    if (this.head) {
      buf = Buffer.concat([this.head, chunk]);
      this.head = undefined;
    }
    let i = 0;
    while (i < buf.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, buf.length - i);
        if (this.keep) this.keep.push(Buffer.from(buf.subarray(i, i + n)));
        i += n;
        this.left -= n;
        if (this.left === 0) this.finish();
        continue;
      }
      const avail = buf.length - i;
      if (avail < 2) {
        this.head = Buffer.from(buf.subarray(i));
        return;
      }
      let len = buf[i + 1]! & 127;
      let headLen = 2;
      if (len === 126) {
        if (avail < 4) {
          this.head = Buffer.from(buf.subarray(i));
          return;
        }
        len = (buf[i + 2]! << 8) | buf[i + 3]!;
        headLen = 4;
      } else if (len === 127) {
        if (avail < 10) {
          this.head = Buffer.from(buf.subarray(i));
          return;
        }
        len = Number(new DataView(buf.buffer, buf.byteOffset + i + 2, 8).getBigUint64(0));
        headLen = 10;
      }
      this.opcode = buf[i]! & 15;
      i += headLen;
      const isData = this.opcode === OP_TEXT || this.opcode === OP_BINARY;
      if (isData) {
        this.messages++;
        wireTotals.messages++;
        wireTotals.bytes += len;
      }
      if (isData && this.onData && !this.waiter && i + len <= buf.length) {
        // The whole message is in this chunk: hand it over in place, no copy.
        this.onData(buf, i, i + len);
        i += len;
        continue;
      }
      this.left = len;
      if (this.opcode >= OP_CLOSE || this.waiter || (isData && this.onData)) this.keep = [];
      if (len === 0) this.finish();
    }
  }

  private finish(): void {
    const parts = this.keep;
    this.keep = undefined;
    if (!parts) return;
    const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (this.opcode === OP_PING) this.control(0xa, payload);
    else if (this.opcode === OP_CLOSE) this.socket.end();
    else if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(text.decode(payload));
    } else this.onData?.(payload, 0, payload.length);
  }

  private control(opcode: number, payload: Uint8Array): void {
    const frame = new Uint8Array(2 + 4 + payload.length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | payload.length;
    frame.set(payload, 6);
    this.socket.write(frame);
  }
}

/** Runs `open` for `count` items, at most `parallel` at a time, in order of index. */
export async function openAll<T>(
  count: number,
  parallel: number,
  open: (index: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return out;
}

/** Line-oriented control over stdin: each line is handed to `onLine`. */
export async function readLines(onLine: (line: string) => void | Promise<void>): Promise<void> {
  for await (const line of console) {
    const trimmed = line.trim();
    if (trimmed) await onLine(trimmed);
  }
}
