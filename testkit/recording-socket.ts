import type { Frame } from "../lib/stomp/codec/frame.ts";
import { FrameParser } from "../lib/stomp/codec/parser.ts";
import type { SessionSocket } from "../lib/stomp/server/app.ts";

/**
 * A socket for driving a StompSession without a network: it keeps what the session sends, parsed,
 * and how it was closed. `strict` makes a send after close an error (the property test's invariant).
 */
export class RecordingSocket implements SessionSocket {
  readonly frames: Frame[] = [];
  /** The commands of the frames sent inside cork(), in order. */
  readonly corked: string[] = [];
  private corking = false;
  closedWith: number | undefined;
  private readonly parser = new FrameParser({
    maxBufferedBytes: 1 << 20,
    maxHeaders: 64,
    maxHeaderLineBytes: 8192,
    maxBodyBytes: 1 << 20,
  });

  constructor(private readonly strict = false) {}

  send(data: string | Uint8Array): number {
    if (this.strict && this.closedWith !== undefined) throw new Error("sent after close");
    const frames = this.parser.push(data);
    this.frames.push(...frames);
    if (this.corking) this.corked.push(...frames.map((f) => f.command));
    return 1;
  }
  cork<T>(sends: () => T): T {
    this.corking = true;
    try {
      return sends();
    } finally {
      this.corking = false;
    }
  }
  close(code?: number): void {
    if (this.strict) this.closedWith ??= code ?? 1005;
    else this.closedWith = code;
  }
  terminate(): void {}
  getBufferedAmount(): number {
    return 0;
  }
  ping(): number {
    return 1;
  }
  subscribe(): void {}
  unsubscribe(): void {}
}
