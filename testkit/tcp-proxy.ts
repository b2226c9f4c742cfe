import net from "node:net";

/**
 * A TCP proxy a test can stall: while stalled, bytes in both directions are dropped and connections
 * stay open — what a black-holed network path (toxiproxy's `timeout` toxic) does to a client. Only
 * this test's own connections pass through it; the shared service keeps serving everyone else.
 */
export interface TcpProxy {
  /** host:port to give the client instead of the service's. */
  address: string;
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const url = new URL(target.includes("://") ? target : `tcp://${target}`);
  const sockets = new Set<net.Socket>();
  let stalled = false;
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: url.hostname, port: Number(url.port) });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on("data", (chunk) => {
        if (!stalled) to.write(chunk);
      });
      from.on("close", () => {
        sockets.delete(from);
        to.destroy();
      });
      from.on("error", () => from.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
