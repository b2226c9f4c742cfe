/** STOMP endpoint and socket settings from configuration: one place for ws-node and presence-node. */
import type { EndpointOptions } from "../stomp/server/endpoint.ts";
import { type HoldLimits, PENDING_ACK_BYTES } from "../stomp/server/holdings.ts";
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
      maxTransactions: config.STOMP_TRANSACTIONS_PER_CONNECTION,
      holds: holdLimits(config),
      sendRate: { perSec: config.SEND_RATE_PER_SEC, burst: config.SEND_BURST },
    },
    heartbeat: { serverMs: config.HEARTBEAT_MS, minClientMs: config.HEARTBEAT_MIN_CLIENT_MS },
    connectTimeoutMs: config.CONNECT_TIMEOUT_MS,
    maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
    allowedOrigins: config.ALLOWED_ORIGINS,
  };
}

export function stompSocketLimits(config: Config): SocketLimits {
  return {
    maxFrameBytes: config.STOMP_MAX_FRAME_BYTES,
    sendBufferLimitBytes: config.SEND_BUFFER_LIMIT_BYTES,
    idleTimeoutSec: config.IDLE_TIMEOUT_SEC,
  };
}

/** Counts and bytes a client may make a node hold, per connection and per user (see SECURITY.md). */
export function holdLimits(c: Config): HoldLimits {
  return {
    queued: {
      perConnection: {
        count: c.STOMP_QUEUED_FRAMES_PER_CONNECTION,
        bytes: c.STOMP_QUEUED_BYTES_PER_CONNECTION,
      },
      perUser: { count: c.STOMP_QUEUED_FRAMES_PER_USER, bytes: c.STOMP_QUEUED_BYTES_PER_USER },
    },
    transactions: {
      perConnection: { count: c.STOMP_TX_FRAMES_PER_CONNECTION, bytes: c.STOMP_TX_BYTES_PER_CONNECTION },
      perUser: { count: c.STOMP_TX_FRAMES_PER_USER, bytes: c.STOMP_TX_BYTES_PER_USER },
    },
    subscriptions: {
      perConnection: {
        count: c.MAX_SUBSCRIPTIONS_PER_CONNECTION,
        bytes: c.STOMP_SUBSCRIPTION_BYTES_PER_CONNECTION,
      },
      perUser: { count: c.STOMP_SUBSCRIPTIONS_PER_USER, bytes: c.STOMP_SUBSCRIPTION_BYTES_PER_USER },
    },
    // Each unacknowledged message is one number: its bytes follow from its count.
    pendingAcks: {
      perConnection: {
        count: c.STOMP_PENDING_ACKS_PER_CONNECTION,
        bytes: c.STOMP_PENDING_ACKS_PER_CONNECTION * PENDING_ACK_BYTES,
      },
      perUser: {
        count: c.STOMP_PENDING_ACKS_PER_USER,
        bytes: c.STOMP_PENDING_ACKS_PER_USER * PENDING_ACK_BYTES,
      },
    },
  };
}
