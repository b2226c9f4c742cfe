import type { StompVersion } from "./frame.ts";
import { encodeFrame } from "./serializer.ts";

/**
 * Builds a MESSAGE frame once for every subscriber that shares its (destination, subscription id,
 * ack value, version): the fan-out path publishes these bytes to all of them.
 */
export function encodeMessage(opts: {
  destination: string;
  subscription: string;
  messageId: string;
  body: string;
  version: StompVersion;
  ack?: string;
  contentType?: string;
  extraHeaders?: ReadonlyArray<readonly [string, string]>;
}): string | Uint8Array {
  const headers: (readonly [string, string])[] = [
    ["destination", opts.destination],
    ["subscription", opts.subscription],
    ["message-id", opts.messageId],
    ["content-type", opts.contentType ?? "application/json"],
  ];
  if (opts.ack !== undefined) headers.push(["ack", opts.ack]);
  if (opts.extraHeaders) headers.push(...opts.extraHeaders);
  return encodeFrame("MESSAGE", headers, opts.body, opts.version);
}
