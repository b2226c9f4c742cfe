/**
 * The bare-metal baseline of the peers benchmark: the least a Bun.serve chat server can do and still
 * speak enough STOMP for the same clients. It authenticates nobody, checks no membership, stores
 * nothing and parses frames with indexOf; a SEND becomes a stamped message (the fields ChatTalk's
 * have) in a MESSAGE frame of the same shape, published once through Bun's pub/sub, then a RECEIPT.
 * Same socket options as the ws-node's defaults.
 *
 *   PORT=<port> bun bench/peers/bare-server.ts
 */
const port = Number(process.env.PORT ?? 0);
const CONNECTED = "CONNECTED\nversion:1.2\nheart-beat:0,0\nsession:bare\nserver:bare\nuser-name:bare\n\n\0";
const seqs = new Map<string, number>();

const header = (frame: string, name: string): string => {
  const at = frame.indexOf(`\n${name}:`);
  if (at < 0) return "";
  const from = at + name.length + 2;
  return frame.slice(from, frame.indexOf("\n", from));
};

const server = Bun.serve<undefined>({
  hostname: "127.0.0.1",
  port,
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
        server.publish(
          destination,
          `MESSAGE\ndestination:${destination}\nsubscription:sub-0\nmessage-id:${id}\ncontent-type:application/json\ncontent-length:${Buffer.byteLength(body)}\n\n${body}\0`,
        );
        ws.send(`RECEIPT\nreceipt-id:${header(frame, "receipt")}\n\n\0`);
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
console.error(`bare server on ${server.port}`);
