import type { Socket } from "bun";

/**
 * A WebSocket client on raw TCP that can stop reading (Socket.pause): the slow consumer a browser
 * tab on a bad network becomes. It speaks just enough WebSocket to send STOMP frames and to notice
 * a text in what the server sent.
 */
export class StalledClient {
  private received = "";
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: Socket<undefined>) {}

  static open(port: number, path = "/ws"): Promise<StalledClient> {
    return new Promise((resolve, reject) => {
      let client: StalledClient | undefined;
      let upgraded = false;
      Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open(socket) {
            client = new StalledClient(socket);
            const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
            socket.write(
              `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n`,
            );
          },
          data(_socket, data) {
            const c = client!;
            // Frames are not decoded: STOMP text in small frames stays readable enough for waits.
            c.received += new TextDecoder().decode(data);
            if (!upgraded && c.received.includes("\r\n\r\n")) {
              upgraded = true;
              if (!c.received.startsWith("HTTP/1.1 101")) reject(new Error(c.received.split("\r\n")[0]));
              else resolve(c);
            }
            c.wake();
          },
          close() {
            if (client) {
              client.closed = true;
              client.wake();
            }
          },
          error(_socket, err) {
            reject(err);
          },
        },
      }).catch(reject);
    });
  }

  /** Sends one masked text frame. */
  send(text: string): void {
    const payload = new TextEncoder().encode(text);
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const len = payload.length;
    const head = len < 126 ? [0x81, 0x80 | len] : [0x81, 0x80 | 126, len >> 8, len & 0xff];
    const frame = new Uint8Array(head.length + 4 + len);
    frame.set(head, 0);
    frame.set(mask, head.length);
    for (let i = 0; i < len; i++) frame[head.length + 4 + i] = payload[i]! ^ mask[i % 4]!;
    this.socket.write(frame);
  }

  async waitFor(text: string, timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.received.includes(text)) {
      if (this.closed || performance.now() > deadline)
        throw new Error(`never received ${JSON.stringify(text)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Stops reading: the kernel buffers fill, then the server's send buffer for this socket. */
  stall(): void {
    this.socket.pause();
  }

  end(): void {
    this.socket.end();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
