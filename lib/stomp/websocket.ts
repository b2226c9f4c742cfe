import type { WebSocketHandler } from "bun";
import type { ConnData } from "./endpoint.ts";

/** Bun's websocket handlers: every socket carries its endpoint, so several endpoints share one server. */
export const stompWebSocketHandlers: WebSocketHandler<ConnData> = {
  open(ws) {
    ws.data.endpoint.onOpen(ws);
  },
  message(ws, message) {
    ws.data.endpoint.onMessage(ws, message);
  },
  close(ws, code) {
    ws.data.endpoint.onClose(ws, code);
  },
};

/** Socket-level limits from configuration. */
export function stompWebSocketOptions(o: {
  maxFrameBytes: number;
  sendBufferLimitBytes: number;
  idleTimeoutSec: number;
}): WebSocketHandler<ConnData> {
  return {
    ...stompWebSocketHandlers,
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
