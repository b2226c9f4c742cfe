import type { Config } from "../config/index.ts";
import type { Logger } from "../log/index.ts";
import type { EndpointOptions } from "./endpoint.ts";
import { stompWebSocketOptions } from "./websocket.ts";

/** STOMP endpoint settings from configuration; one place for ws-node and presence-node. */
export function endpointOptions(config: Config, serverName: string, log: Logger): EndpointOptions {
  return {
    serverName,
    log,
    limits: {
      parser: {
        maxBufferedBytes: config.STOMP_MAX_FRAME_BYTES,
        maxHeaders: config.STOMP_MAX_HEADERS,
        maxHeaderLineBytes: config.STOMP_MAX_HEADER_LINE_BYTES,
        maxBodyBytes: config.STOMP_MAX_BODY_BYTES,
      },
      maxSubscriptions: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxQueuedFrames: 64,
    },
    heartbeat: { serverMs: config.HEARTBEAT_MS, minClientMs: config.HEARTBEAT_MIN_CLIENT_MS },
    connectTimeoutMs: config.CONNECT_TIMEOUT_MS,
    maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
    sendRate: { perSec: config.SEND_RATE_PER_SEC, burst: config.SEND_BURST },
    transactions: { maxOpen: 16, maxFramesEach: 1024 },
  };
}

/** Bun websocket handler with socket-level limits from configuration. */
export function webSocketHandler(config: Config) {
  return stompWebSocketOptions({
    maxFrameBytes: config.STOMP_MAX_FRAME_BYTES,
    sendBufferLimitBytes: config.SEND_BUFFER_LIMIT_BYTES,
    idleTimeoutSec: config.IDLE_TIMEOUT_SEC,
  });
}
