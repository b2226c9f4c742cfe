/**
 * Waits until a client process's subscriptions are live. A server may hold live messages back while
 * it replays what a new subscriber missed (ChatTalk does, reading its backlog): a workload measured
 * before that ends would time the replay. So short chat steps run until one has every copy arrive
 * within a second.
 */
import type { LineChild } from "../support/child.ts";

export async function settle(clients: LineChild, rate: number, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    clients.send(`chat ${rate} 1000`);
    const [, , expected, received, , , , max, errors] = (await clients.next("chat", 60_000)).map(Number);
    if (errors! > 0) throw new Error(`${errors} errors while settling`);
    if (received === expected && max! < 1_000) return;
    if (performance.now() > deadline) throw new Error(`subscriptions not live after ${timeoutMs} ms`);
  }
}
