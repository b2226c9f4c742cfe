import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import type { ISocketFactory } from "kafkajs";
import { kafkaSockets, retryRetriable } from "./kafka-support.ts";

/** A server that accepts each connection and resets it: what toxiproxy does in front of a stopped broker. */
let server: net.Server;
let port: number;
beforeAll(async () => {
  server = net.createServer((s) => s.resetAndDestroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => server.close());

/** What kafkajs's Connection.disconnect does to a connection's socket, as often as kafkajs calls it. */
function disconnectRepeatedly(socket: net.Socket, times: number) {
  for (let i = 0; i < times; i++) {
    socket.end();
    socket.unref();
  }
}

async function resetSocket(factory: ISocketFactory): Promise<net.Socket> {
  const socket = factory({ host: "127.0.0.1", port, ssl: {}, onConnect: () => {} });
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("close", resolve));
  return socket;
}

describe("kafkaSockets", () => {
  test("disconnecting a dead connection again and again adds no listener to its socket", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const socket = await resetSocket(kafkaSockets());
      const before = socket.listenerCount("connect");
      disconnectRepeatedly(socket, 12);
      expect(socket.listenerCount("connect")).toBe(before);
      await Bun.sleep(10);
      expect(warnings).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });

  test("the runtime's own unref piles a listener per call onto a closed socket (why the wrapper exists)", async () => {
    const plain: ISocketFactory = ({ host, port: p, onConnect }) => net.connect({ host, port: p }, onConnect);
    const socket = await resetSocket(plain);
    socket.setMaxListeners(100); // this test shows the pile-up; it must not warn doing so
    const before = socket.listenerCount("connect");
    disconnectRepeatedly(socket, 12);
    expect(socket.listenerCount("connect")).toBe(before + 12);
  });

  test("a socket still connecting defers one unref, not one per call", async () => {
    const socket = kafkaSockets()({ host: "127.0.0.1", port, ssl: {}, onConnect: () => {} });
    socket.on("error", () => {});
    const before = socket.listenerCount("connect");
    for (let i = 0; i < 5; i++) socket.unref();
    expect(socket.listenerCount("connect")).toBeLessThanOrEqual(before + 1);
    await new Promise((resolve) => socket.once("close", resolve));
  });
});

describe("retryRetriable", () => {
  test("retries a retriable error until it succeeds; a non-retriable one fails at once", async () => {
    let calls = 0;
    const flaky = async () => {
      if (++calls < 3) throw Object.assign(new Error("not the leader"), { retriable: true });
      return "ok";
    };
    expect(await retryRetriable(flaky, 5_000)).toBe("ok");
    expect(calls).toBe(3);
    let fatal = 0;
    const broken = async () => {
      fatal++;
      throw Object.assign(new Error("bad request"), { retriable: false });
    };
    await expect(retryRetriable(broken, 5_000)).rejects.toThrow("bad request");
    expect(fatal).toBe(1);
    await expect(
      retryRetriable(async () => {
        throw Object.assign(new Error("still loading"), { retriable: true });
      }, 300),
    ).rejects.toThrow("still loading");
  });
});
