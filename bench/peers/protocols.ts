/**
 * The client side of each peer's wire protocol, as the peers benchmark's clients speak it: STOMP 1.2
 * (ChatTalk and the bare Bun server), Centrifugo's JSON protocol over WebSocket, and Socket.IO v5 over
 * Engine.IO v4 (WebSocket transport only). Written from the protocols' documentation; only what the
 * workloads use: authenticate, subscribe, publish with an acknowledgement, answer keep-alives.
 */

export type ProtocolName = "stomp" | "centrifugo" | "socketio";

/** One client connection of a plan: its credentials and the channels it subscribes to. */
export interface ConnSpec {
  token: string;
  subs: { channel: string; token?: string }[];
  /** Index into the plan's URLs; by default connections are spread round-robin. */
  url?: number;
}

/** A reply awaited during set-up: `ok` moves on, `skip` ignores this one, a string is a refusal. */
export type Verdict = "ok" | "skip" | string;

export interface SetupStep {
  /** Sent when the step starts (none: the server speaks first). */
  send?: string;
  check(unit: string): Verdict;
}

export interface Protocol {
  path: string;
  subprotocol?: string;
  /** Splits a WebSocket message into protocol units (Centrifugo batches replies, one JSON per line). */
  units(payload: string): string[];
  /** `heartbeatMs` > 0: ask the server for heart-beats at that interval (STOMP only). */
  setup(conn: ConnSpec, heartbeatMs?: number): SetupStep[];
  publish(channel: string, ackId: number, text: string): string;
  /** The publish id a unit acknowledges, -1 for a refusal (an error), undefined when it is neither. */
  ack(unit: string): number | undefined;
  /** The reply a unit asks for (a keep-alive), if any. */
  keepalive(unit: string): string | undefined;
  /** Cheap pre-check on raw bytes: may this message hold an ack or a keep-alive? */
  mayNeedAttention(buf: Buffer, start: number, end: number): boolean;
}

const header = (frame: string, name: string): string | undefined => {
  const at = frame.indexOf(`\n${name}:`);
  if (at < 0) return undefined;
  const from = at + name.length + 2;
  const end = frame.indexOf("\n", from);
  return frame.slice(from, end < 0 ? undefined : end);
};

const stompError = (unit: string) =>
  unit.startsWith("ERROR") ? `ERROR ${header(unit, "message") ?? unit.slice(0, 120)}` : undefined;

/** STOMP 1.2 frames: one per WebSocket message. Every connection uses subscription ids sub-0, sub-1, … */
export const stomp: Protocol = {
  path: "/ws",
  subprotocol: "v12.stomp",
  units: (payload) => [payload],
  setup: (conn, heartbeatMs = 0) => [
    {
      // cx 0: the server expects nothing, so a late client beat on a loaded machine closes nothing;
      // the clients send beats anyway (see clients.ts), so both directions cost what they cost.
      send: `CONNECT\naccept-version:1.2\nhost:chattalk\nheart-beat:0,${heartbeatMs}\nAuthorization:Bearer ${conn.token}\n\n\0`,
      check: (u) => stompError(u) ?? (u.startsWith("CONNECTED\n") ? "ok" : "skip"),
    },
    ...conn.subs.map((s, i) => ({
      send: `SUBSCRIBE\nid:sub-${i}\ndestination:${s.channel}\nack:auto\nreceipt:s${i}\n\n\0`,
      check: (u: string) => stompError(u) ?? (u.startsWith("RECEIPT\n") ? "ok" : "skip"),
    })),
  ],
  publish: (channel, ackId, text) =>
    `SEND\ndestination:${channel}\ncontent-type:application/json\nreceipt:${ackId}\n\n${JSON.stringify({ text })}\0`,
  ack(unit) {
    if (unit.startsWith("RECEIPT\n")) return Number(header(unit, "receipt-id"));
    if (unit.startsWith("ERROR\n")) return -1;
    // A refusal as a notice on /user/queue/errors would carry the SEND's receipt-id.
    if (unit.startsWith("MESSAGE\n") && unit.includes("\ndestination:/user/queue/errors")) return -1;
    return undefined;
  },
  keepalive: () => undefined,
  // R(ECEIPT) or E(RROR); MESSAGE frames are deliveries.
  mayNeedAttention: (buf, start) => buf[start] === 0x52 || buf[start] === 0x45,
};

/** Centrifugo's JSON client protocol: `{"id":n,"<command>":{…}}` commands, replies echo the id. */
export const centrifugo: Protocol = {
  path: "/connection/websocket",
  units: (payload) => payload.split("\n").filter((l) => l !== ""),
  setup: (conn) => {
    const reply = (id: number, field: string) => (u: string) => {
      if (!u.startsWith(`{"id":${id},`)) return "skip";
      return u.includes(`"${field}":`) && !u.includes('"error":') ? "ok" : u.slice(0, 200);
    };
    return [
      {
        send: JSON.stringify({ id: 1, connect: { token: conn.token, name: "bench" } }),
        check: reply(1, "connect"),
      },
      ...conn.subs.map((s, i) => ({
        send: JSON.stringify({ id: 2 + i, subscribe: { channel: s.channel, token: s.token } }),
        check: reply(2 + i, "subscribe"),
      })),
    ];
  },
  // Publish ids start above any set-up command's.
  publish: (channel, ackId, text) =>
    JSON.stringify({ id: 1_000 + ackId, publish: { channel, data: { text } } }),
  ack(unit) {
    if (!unit.startsWith('{"id":')) return undefined;
    const id = Number.parseInt(unit.slice(6), 10) - 1_000;
    return unit.includes('"error":') ? -1 : id;
  },
  // The server pings with an empty command and expects an empty reply.
  keepalive: (unit) => (unit === "{}" ? "{}" : undefined),
  mayNeedAttention(buf, start, end) {
    // A reply starts a line with {"id": ; a ping is a line that is just {}.
    const id = buf.indexOf('{"id":', start);
    if (id >= 0 && id < end) return true;
    const ping = buf.indexOf("{}", start);
    return ping >= 0 && ping < end;
  },
};

/**
 * Socket.IO v5 packets over Engine.IO v4: `0{…}` open, `40{auth}` connect to the main namespace,
 * `42<ack>["event",…]` events, `43<ack>[…]` acknowledgements, `2`/`3` ping/pong.
 */
export const socketio: Protocol = {
  path: "/socket.io/?EIO=4&transport=websocket",
  units: (payload) => [payload],
  setup: (conn) => [
    { check: (u) => (u.startsWith("0{") ? "ok" : "skip") },
    {
      send: `40${JSON.stringify({ token: conn.token })}`,
      check: (u) => (u.startsWith("40") ? "ok" : u.startsWith("44") ? u.slice(0, 200) : "skip"),
    },
    ...conn.subs.map((s, i) => ({
      send: `42${i}${JSON.stringify(["join", s.channel])}`,
      check: (u: string) =>
        u.startsWith(`43${i}[`) ? (u.startsWith(`43${i}[true`) ? "ok" : u.slice(0, 200)) : "skip",
    })),
  ],
  publish: (channel, ackId, text) =>
    `42${1_000 + ackId}${JSON.stringify(["message", { room: channel, text }])}`,
  ack(unit) {
    if (!unit.startsWith("43")) return undefined;
    const id = Number.parseInt(unit.slice(2), 10) - 1_000;
    return unit.includes("[true") ? id : -1;
  },
  keepalive: (unit) => (unit === "2" ? "3" : undefined),
  // 4 3 (ack) or a bare "2" (ping); events start with 4 2.
  mayNeedAttention: (buf, start, end) =>
    (buf[start] === 0x34 && buf[start + 1] === 0x33) || end - start === 1,
};

export const protocols: Record<ProtocolName, Protocol> = { stomp, centrifugo, socketio };

/** Message texts carry their id: `m <id> ` padded to the size of a typical chat line. */
export const TEXT_LENGTH = 55;
export const MARKER = '"text":"m ';

export function messageText(id: number): string {
  const head = `m ${id} `;
  return head + "x".repeat(Math.max(0, TEXT_LENGTH - head.length));
}
