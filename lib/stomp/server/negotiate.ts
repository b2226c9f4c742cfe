import type { StompVersion } from "../codec/frame.ts";

/** Versions we speak, best first. */
export const SUPPORTED_VERSIONS: readonly StompVersion[] = ["1.2", "1.1", "1.0"];

/**
 * Picks the best `vNN.stomp` subprotocol a client offers. Bun would otherwise echo the first offer,
 * and webstomp-client offers v10 first, then derives its STOMP version from the answer.
 * Returns undefined when the client offered none we know (stomp.py offers none: allowed).
 */
export function selectSubprotocol(offered: string | null): string | undefined {
  if (!offered) return undefined;
  const names = new Set(offered.split(",").map((p) => p.trim()));
  for (const v of SUPPORTED_VERSIONS) {
    const name = `v${v.replace(".", "")}.stomp`;
    if (names.has(name)) return name;
  }
  return undefined;
}

/** Highest common version from CONNECT's `accept-version`; absent means 1.0; undefined = none in common. */
export function negotiateVersion(acceptVersion: string | undefined): StompVersion | undefined {
  if (acceptVersion === undefined) return "1.0";
  const offered = new Set(acceptVersion.split(",").map((v) => v.trim()));
  return SUPPORTED_VERSIONS.find((v) => offered.has(v));
}

export interface HeartbeatPlan {
  /** Server sends a heart-beat when it has sent nothing for this long (0 = never). */
  sendEveryMs: number;
  /** Server expects client data at least this often (0 = not checked). */
  expectEveryMs: number;
}

export interface HeartbeatPolicy {
  /** What the server can send and wants to receive (ms); 0 disables. */
  serverMs: number;
  /** A client asking for heart-beats more often than this is held to this interval. */
  minClientMs: number;
}

/**
 * Heart-beat negotiation per STOMP 1.1+: client `cx,cy`, server `sx,sy`.
 * Client→server interval is max(cx, sy) unless either is 0; server→client is max(sx, cy) likewise.
 * Returns undefined when the header is malformed.
 */
export function negotiateHeartbeat(
  header: string | undefined,
  policy: HeartbeatPolicy,
): { plan: HeartbeatPlan; reply: string } | undefined {
  let cx = 0;
  let cy = 0;
  if (header !== undefined) {
    const m = /^(\d{1,9}),(\d{1,9})$/.exec(header);
    if (!m) return undefined;
    cx = Number(m[1]);
    cy = Number(m[2]);
  }
  const sx = policy.serverMs;
  const sy = policy.serverMs === 0 ? 0 : Math.max(policy.serverMs, policy.minClientMs);
  const expectEveryMs = cx === 0 || sy === 0 ? 0 : Math.max(cx, sy);
  const sendEveryMs = sx === 0 || cy === 0 ? 0 : Math.max(sx, cy, policy.minClientMs);
  return { plan: { sendEveryMs, expectEveryMs }, reply: `${sendEveryMs},${expectEveryMs}` };
}
