/**
 * The bare-metal baseline of the peers benchmark: the least a Bun.serve chat server can do and still
 * speak enough STOMP for the same clients. It authenticates nobody, checks no membership, stores
 * nothing and parses frames with indexOf; a SEND becomes a stamped message (the fields ChatTalk's
 * have) in a MESSAGE frame of the same shape, published once through Bun's pub/sub, then a RECEIPT.
 * Same socket options as the ws-node's defaults.
 *
 *   PORT=<port> bun bench/peers/bare-server.ts
 *
 * As a model of where a server's latency comes from (the peers bench passes the environment on):
 * BARE_WORK_US=<µs> busy-waits that long in each SEND (a server's own per-message work, without its
 * allocations); BARE_DEFER=1 publishes a turn's SENDs together in setImmediate (as a group commit
 * does); BARE_THREADS=<n> serves from n threads on one port (reusePort), each SEND's frame handed to
 * the other threads over a BroadcastChannel for their subscribers; BARE_LIVE_MB=<MiB> holds that much
 * in small live objects and BARE_GARBAGE_KB=<KiB> allocates that much short-lived garbage in each SEND
 * (the garbage collector's work, without what a real server's collections scan).
 */
import type { ServerWebSocket } from "bun";

const port = Number(process.env.PORT ?? 0);
const workMs = Number(process.env.BARE_WORK_US ?? 0) / 1000;
const defer = process.env.BARE_DEFER === "1";
const threads = Number(process.env.BARE_THREADS ?? 1);
/** Small objects are ~64 bytes each. */
const garbageObjects = Math.round((Number(process.env.BARE_GARBAGE_KB ?? 0) * 1024) / 64);
const live = Array.from({ length: (Number(process.env.BARE_LIVE_MB ?? 0) * 1024 * 1024) / 64 }, (_, i) => ({
  i,
  s: `live ${i}`,
}));
const CONNECTED = "CONNECTED\nversion:1.2\nheart-beat:0,0\nsession:bare\nserver:bare\nuser-name:bare\n\n\0";
const seqs = new Map<string, number>();

const header = (frame: string, name: string): string => {
  const at = frame.indexOf(`\n${name}:`);
  if (at < 0) return "";
  const from = at + name.length + 2;
  return frame.slice(from, frame.indexOf("\n", from));
};

if (Bun.isMainThread) for (let i = 1; i < threads; i++) new Worker(import.meta.path);
const others = threads > 1 ? new BroadcastChannel("bare-server") : undefined;
if (others) others.onmessage = (e: MessageEvent<[string, string]>) => server.publish(e.data[0], e.data[1]);
let deferred: (() => void)[] = [];

/** The last SEND's garbage, kept until the next one so the allocation cannot be optimised away. */
let _garbage: unknown;
const makeGarbage = () => {
  let list: unknown;
  for (let i = 0; i < garbageObjects; i++) list = { next: list, i };
  _garbage = list;
};

const busyWait = () => {
  const until = performance.now() + workMs;
  while (performance.now() < until) {}
};

function publish(ws: ServerWebSocket<undefined>, destination: string, message: string, receipt: string) {
  server.publish(destination, message);
  others?.postMessage([destination, message]);
  ws.send(receipt);
}

const server = Bun.serve<undefined>({
  hostname: "127.0.0.1",
  port,
  reusePort: threads > 1,
  fetch(req, srv) {
    if (new URL(req.url).pathname === "/healthz") return Response.json({ status: "ok" });
    const headers = { "Sec-WebSocket-Protocol": "v12.stomp" };
    if (srv.upgrade(req, { data: undefined, headers })) return undefined;
    return new Response("WebSocket only", { status: 426 });
  },
  websocket: {
    message(ws, data) {
      const frame = String(data);
      if (frame.startsWith("SEND")) {
        const destination = header(frame, "destination");
        // A typing signal (bench/typing.ts) is taken in and dropped: what any server pays to receive one.
        if (destination.endsWith("/typing")) return;
        const roomId = destination.slice(destination.lastIndexOf("/") + 1);
        const { text } = JSON.parse(frame.slice(frame.indexOf("\n\n") + 2, -1)) as { text: string };
        const seq = (seqs.get(roomId) ?? 0) + 1;
        seqs.set(roomId, seq);
        const id = crypto.randomUUID();
        const body = JSON.stringify({
          id,
          roomId,
          type: "message",
          sender: { id: "00000000-0000-7000-8000-000000000000", username: "bare" },
          text,
          sentAt: new Date().toISOString(),
          seq,
        });
        if (workMs > 0) busyWait();
        if (garbageObjects > 0) makeGarbage();
        const message = `MESSAGE\ndestination:${destination}\nsubscription:sub-0\nmessage-id:${id}\ncontent-type:application/json\ncontent-length:${Buffer.byteLength(body)}\n\n${body}\0`;
        const receipt = `RECEIPT\nreceipt-id:${header(frame, "receipt")}\n\n\0`;
        if (!defer) publish(ws, destination, message, receipt);
        else if (deferred.push(() => publish(ws, destination, message, receipt)) === 1) {
          setImmediate(() => {
            const due = deferred;
            deferred = [];
            for (const run of due) run();
          });
        }
      } else if (frame.startsWith("SUBSCRIBE")) {
        ws.subscribe(header(frame, "destination"));
        ws.send(`RECEIPT\nreceipt-id:${header(frame, "receipt")}\n\n\0`);
      } else if (frame.startsWith("CONNECT")) {
        ws.send(CONNECTED);
      }
    },
    backpressureLimit: 1024 * 1024,
    closeOnBackpressureLimit: true,
    idleTimeout: 120,
    sendPings: true,
    perMessageDeflate: false,
  },
});
console.error(`bare server on ${server.port}${live.length ? ` holding ${live.length} live objects` : ""}`);
