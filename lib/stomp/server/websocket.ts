import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { ServerSession } from "./session.ts";

/** Per-socket data Bun keeps for us: the endpoint that upgraded it, so several endpoints share one server. */
export interface ConnData {
  owner: SocketOwner;
  /** The client address the server counted this socket under (lib/http/serve.ts caps per address). */
  clientIp: string;
  /** Set when the socket opens. */
  session?: ServerSession;
}

/** What Bun's socket events are routed to (a StompEndpoint). */
export interface SocketOwner {
  onOpen(ws: ServerWebSocket<ConnData>): void;
  onMessage(ws: ServerWebSocket<ConnData>, message: string | Uint8Array): void;
  onClose(ws: ServerWebSocket<ConnData>, code: number): void;
  onPong(ws: ServerWebSocket<ConnData>, data: Uint8Array): void;
}

/** Socket-level limits. */
export interface SocketLimits {
  maxFrameBytes: number;
  sendBufferLimitBytes: number;
  idleTimeoutSec: number;
}

/** Bun's websocket handlers for every STOMP endpoint of a server, with socket-level limits. */
export function stompWebSocket(o: SocketLimits): WebSocketHandler<ConnData> {
  return {
    open(ws) {
      ws.data.owner.onOpen(ws);
    },
    message(ws, message) {
      ws.data.owner.onMessage(ws, message);
    },
    close(ws, code) {
      ws.data.owner.onClose(ws, code);
    },
    pong(ws, data) {
      ws.data.owner.onPong(ws, data);
    },
    // Bun's own cap sits above the STOMP frame limit so an oversize frame gets a STOMP ERROR naming
    // the limit; messages past this hard cap are closed by Bun with 1009.
    maxPayloadLength: o.maxFrameBytes * 2 + 4096,
    // A consumer whose unsent data passes the limit is cut off; it recovers missed messages on reconnect.
    backpressureLimit: o.sendBufferLimitBytes,
    closeOnBackpressureLimit: true,
    idleTimeout: o.idleTimeoutSec,
    sendPings: true,
    perMessageDeflate: false,
  };
}
