import type { MessageBus, Unsubscribe } from "../../lib/bus/types.ts";
import { isSessionEvent } from "../../lib/chat/control.ts";
import { endRevokedSessions } from "../../lib/chat/revocation.ts";
import type { Config } from "../../lib/config/index.ts";
import { stompEndpointSettings } from "../../lib/config/stomp.ts";
import type { Logger } from "../../lib/log/index.ts";
import type { PresenceView } from "../../lib/presence/types.ts";
import type { VerifyToken } from "../../lib/stomp/server/authenticate.ts";
import { StompEndpoint } from "../../lib/stomp/server/endpoint.ts";
import type { RoomStore } from "../../lib/store/types.ts";
import { PresenceApp, type PresenceState } from "./presence-app.ts";

export interface PresenceNodeDeps {
  config: Config;
  rooms: RoomStore;
  view: PresenceView;
  /** Control events: a member removed or a room deleted ends roster subscriptions like chat ones; a revocation ends sessions. */
  bus: Pick<MessageBus, "subscribeControl">;
  verifyToken: VerifyToken;
  log: Logger;
}

export interface PresenceNode {
  readonly endpoint: StompEndpoint<PresenceState>;
  /** Starts the view (connects, coalesces, sweeps); call before accepting connections. */
  start(): Promise<void>;
  /** Drains: clients closed cleanly (their watches end), then the view is closed. */
  stop(): Promise<void>;
  /** False while the presence store is unreachable. */
  readonly healthy: boolean;
}

export const PRESENCE_SERVER_NAME = "ChatTalk-presence-node/0.1";

/** The presence service: STOMP endpoint serving live rosters from a PresenceView. Mount `endpoint` at /presence. */
export function createPresenceNode(d: PresenceNodeDeps): PresenceNode {
  const app = new PresenceApp({ rooms: d.rooms, view: d.view, log: d.log });
  const endpoint = new StompEndpoint(app, {
    ...stompEndpointSettings(d.config),
    serverName: PRESENCE_SERVER_NAME,
    log: d.log,
    verifyToken: d.verifyToken,
  });
  let stopControl: Unsubscribe | undefined;
  return {
    endpoint,
    async start() {
      await d.view.start();
      stopControl = await d.bus.subscribeControl((e) =>
        isSessionEvent(e) ? endRevokedSessions(e, [endpoint], d.verifyToken.forget) : app.onControl(e),
      );
    },
    async stop() {
      await endpoint.shutdown(d.config.SHUTDOWN_GRACE_MS);
      await stopControl?.();
      await d.view.close();
    },
    get healthy() {
      return d.view.healthy;
    },
  };
}
