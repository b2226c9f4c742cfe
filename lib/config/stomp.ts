/** STOMP endpoint and socket settings from configuration: one place for ws-node and presence-node. */
import type { EndpointOptions } from "../stomp/server/endpoint.ts";
import type { SocketLimits } from "../stomp/server/websocket.ts";
import type { Config } from "./schema.ts";

/** Everything an endpoint takes from the settings; the app adds its name, log and verifyToken. */
export type EndpointSettings = Omit<EndpointOptions, "serverName" | "log" | "verifyToken">;

export function stompEndpointSettings(config: Config): EndpointSettings {
  return {
    limits: {
      parser: {
        maxBufferedBytes: config.STOMP_MAX_FRAME_BYTES,
        maxHeaders: config.STOMP_MAX_HEADERS,
        maxHeaderLineBytes: config.STOMP_MAX_HEADER_LINE_BYTES,
        maxBodyBytes: config.STOMP_MAX_BODY_BYTES,
      },
      maxSubscriptions: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxQueuedFrames: 64,
      transactions: { maxOpen: 16, maxFramesEach: 1024 },
      sendRate: { perSec: config.SEND_RATE_PER_SEC, burst: config.SEND_BURST },
    },
    heartbeat: { serverMs: config.HEARTBEAT_MS, minClientMs: config.HEARTBEAT_MIN_CLIENT_MS },
    connectTimeoutMs: config.CONNECT_TIMEOUT_MS,
    maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
  };
}

export function stompSocketLimits(config: Config): SocketLimits {
  return {
    maxFrameBytes: config.STOMP_MAX_FRAME_BYTES,
    sendBufferLimitBytes: config.SEND_BUFFER_LIMIT_BYTES,
    idleTimeoutSec: config.IDLE_TIMEOUT_SEC,
  };
}
