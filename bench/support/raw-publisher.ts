/**
 * The fan-out baseline: a bare Bun.serve whose WebSockets all subscribe to the topic "room" on open,
 * with the same socket options as the ws-node, so `server.publish` is the only work per message.
 */
import type { Server } from "bun";

export interface RawPublisher {
  server: Server<undefined>;
  url: string;
}

export function startRawPublisher(sendBufferLimitBytes: number): RawPublisher {
  const server = Bun.serve<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      if (srv.upgrade(req, { data: undefined })) return undefined;
      return new Response("WebSocket only", { status: 426 });
    },
    websocket: {
      open(ws) {
        ws.subscribe("room");
      },
      message() {},
      backpressureLimit: sendBufferLimitBytes,
      closeOnBackpressureLimit: true,
      idleTimeout: 120,
      sendPings: true,
      perMessageDeflate: false,
    },
  });
  return { server, url: `ws://127.0.0.1:${server.port}/ws` };
}
