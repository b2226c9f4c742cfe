/**
 * The Socket.IO 4.8 peer of the peers benchmark, run with Node.js (the runtime it is built for), as
 * its documentation would have a chat server written: a JWT (HS256, the same secret) checked in an
 * `io.use` middleware, `join` checked against the room's members, `message` stamped with the fields
 * ChatTalk's messages have and sent with `io.to(room).emit`, the publisher answered through the ack.
 * WebSocket transport only (the clients skip long-polling). With REDIS_URL set it joins a cluster
 * through @socket.io/redis-adapter (classic Pub/Sub), keys under REDIS_PREFIX.
 *
 *   PORT=<port> JWT_SECRET=<secret> MEMBERS_FILE=<json {room: [userId…]}> node socketio-server.mjs
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { jwtVerify } from "jose";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 0);
const secret = new TextEncoder().encode(process.env.JWT_SECRET);
/** @type {Record<string, string[]>} */
const membersByRoom = process.env.MEMBERS_FILE
  ? JSON.parse(readFileSync(process.env.MEMBERS_FILE, "utf8"))
  : {};
const members = new Map(Object.entries(membersByRoom).map(([room, ids]) => [room, new Set(ids)]));
const seqs = new Map();

const http = createServer((req, res) => {
  res.writeHead(req.url === "/healthz" ? 200 : 404, { "content-type": "application/json" });
  res.end('{"status":"ok"}');
});
const io = new Server(http, {
  transports: ["websocket"],
  serveClient: false,
  // The same bound on a client's messages as ChatTalk's frame limit.
  maxHttpBufferSize: 64 * 1024,
});

if (process.env.REDIS_URL) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  // On a saturated machine a Redis command of the adapter can time out; its rejection is not handled
  // inside the adapter and would end the process (and the benchmark with it). Logged and counted
  // instead, as a deployed server would, so the clients see whatever was lost.
  const report = (err) => console.error(`socket.io redis: ${err?.name ?? "error"}: ${err?.message ?? err}`);
  pub.on("error", report);
  sub.on("error", report);
  process.on("unhandledRejection", report);
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub, { key: process.env.REDIS_PREFIX ?? "socket.io" }));
}

io.use(async (socket, next) => {
  try {
    const { payload } = await jwtVerify(String(socket.handshake.auth.token ?? ""), secret, {
      algorithms: ["HS256"],
    });
    socket.data.user = { id: String(payload.sub), username: String(payload.name ?? payload.sub) };
    next();
  } catch {
    next(new Error("unauthorized"));
  }
});

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    const ok = typeof room === "string" && members.get(room)?.has(socket.data.user.id) === true;
    if (ok) socket.join(room);
    if (typeof ack === "function") ack(ok);
  });
  socket.on("message", (msg, ack) => {
    const room = msg?.room;
    const text = msg?.text;
    if (typeof room !== "string" || typeof text !== "string" || !socket.rooms.has(room)) {
      if (typeof ack === "function") ack(false);
      return;
    }
    const seq = (seqs.get(room) ?? 0) + 1;
    seqs.set(room, seq);
    io.to(room).emit("message", {
      id: randomUUID(),
      roomId: room,
      type: "message",
      sender: socket.data.user,
      text,
      sentAt: new Date().toISOString(),
      seq,
    });
    if (typeof ack === "function") ack(true);
  });
});

http.listen(port, "127.0.0.1", () => console.error(`socket.io server on ${http.address().port}`));
