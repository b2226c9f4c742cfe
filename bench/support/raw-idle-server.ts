/**
 * The idle-connection baseline: a bare Bun.serve WebSocket server in its own process that answers
 * any message with a fixed CONNECTED frame and otherwise holds the sockets. Same socket options as
 * the ws-node's defaults.
 *
 *   PORT=<port> bun bench/support/raw-idle-server.ts
 */
const port = Number(process.env.PORT ?? 0);
const CONNECTED = "CONNECTED\nversion:1.2\nheart-beat:0,0\nsession:raw\nserver:raw\n\n\0";

Bun.serve<undefined>({
  hostname: "127.0.0.1",
  port,
  fetch(req, srv) {
    if (new URL(req.url).pathname === "/healthz") return Response.json({ status: "ok" });
    if (srv.upgrade(req, { data: undefined })) return undefined;
    return new Response("WebSocket only", { status: 426 });
  },
  websocket: {
    message(ws) {
      ws.send(CONNECTED);
    },
    backpressureLimit: 1024 * 1024,
    closeOnBackpressureLimit: true,
    idleTimeout: 120,
    sendPings: true,
    perMessageDeflate: false,
  },
});
