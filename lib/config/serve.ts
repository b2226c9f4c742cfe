import type { ServeOptions } from "../http/serve.ts";
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
  };
}
