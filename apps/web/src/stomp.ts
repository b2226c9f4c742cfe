import { Client, type IMessage, type StompSubscription } from "@stomp/stompjs";
import type { Api } from "./api.ts";

/**
 * One STOMP connection (chat at /ws or presence at /presence) that reconnects by itself and gets a
 * fresh token each time. Subscriptions are re-made after every reconnect by the caller's onConnect.
 */
export function connectStomp(
  path: string,
  api: Api,
  onConnect: (client: Client) => void,
  onState: (state: string) => void,
): Client {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
  const client = new Client({
    brokerURL: url,
    reconnectDelay: 2000,
    heartbeatIncoming: 10000,
    heartbeatOutgoing: 10000,
    beforeConnect: async () => {
      client.connectHeaders = { Authorization: `Bearer ${await api.freshToken()}` };
    },
    onConnect: () => {
      onState("online");
      onConnect(client);
    },
    onWebSocketClose: () => onState("reconnecting…"),
    onStompError: (frame) => onState(`error: ${frame.headers.message ?? "refused"}`),
  });
  client.activate();
  return client;
}

export type { Client, IMessage, StompSubscription };
