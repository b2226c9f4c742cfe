import type { Server } from "bun";
import { localOnly } from "../http/operator.ts";
import { type Mount, type ServeOptions, serveMounts } from "../http/serve.ts";
import { type ConnData, stompWebSocket } from "../stomp/server/websocket.ts";
import type { Config } from "./schema.ts";
import { stompSocketLimits } from "./stomp.ts";

/** Where and how every process serves: address, proxy trust, and the STOMP sockets' limits. */
export function serveOptions(config: Config): ServeOptions<ConnData> {
  return {
    hostname: config.HOST,
    port: config.PORT,
    trustProxy: config.TRUST_PROXY,
    websocket: stompWebSocket(stompSocketLimits(config)),
    limits: {
      requests: {
        total: config.HTTP_MAX_REQUESTS_IN_FLIGHT,
        perIp: config.HTTP_MAX_REQUESTS_IN_FLIGHT_PER_IP,
      },
      sockets: { total: config.WS_MAX_CONNECTIONS, perIp: config.WS_MAX_CONNECTIONS_PER_IP },
      bodyTimeoutSec: config.HTTP_BODY_TIMEOUT_SEC,
      idleTimeoutSec: config.HTTP_IDLE_TIMEOUT_SEC,
      maxBodyBytes: config.HTTP_MAX_BODY_BYTES,
    },
  };
}

/**
 * Operator endpoints (/metrics). METRICS_PORT unset: on the app port, answering only direct local
 * requests (loopback peer, no proxy header), 404 for anyone else. Set: on their own listener at
 * METRICS_HOST:METRICS_PORT, and not on the app port at all. Returns the mounts for the app port and
 * the extra listener, if any (stop it on shutdown).
 */
export function operatorMounts(
  config: Config,
  mounts: Mount[],
): { appMounts: Mount[]; listener: Server<unknown> | undefined } {
  if (config.METRICS_PORT === undefined)
    return { appMounts: mounts.map((m) => localOnly(m)), listener: undefined };
  const listener = serveMounts(
    { hostname: config.METRICS_HOST, port: config.METRICS_PORT, trustProxy: false },
    mounts,
  );
  return { appMounts: [], listener };
}
