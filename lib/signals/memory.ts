import { errorFields, type Logger, silentLogger } from "../log/index.ts";
import type { RoomSignal, SignalBus } from "./types.ts";

type Handler = (signal: RoomSignal) => void;

/**
 * In-process signals: every handle made by one hub sees every signal published on any of them, as
 * replicas on one Redis would. Delivery runs in a microtask, so a publisher never re-enters itself.
 */
export function createMemorySignalHub(log: Logger = silentLogger): { handle(): SignalBus } {
  const handlers = new Set<Handler>();
  let queue: RoomSignal[] = [];
  let scheduled = false;
  const drain = () => {
    const batch = queue;
    queue = [];
    scheduled = false;
    for (const signal of batch) {
      for (const h of handlers) {
        try {
          h(signal);
        } catch (err) {
          log("error", "signal handler failed", errorFields(err));
        }
      }
    }
  };
  return {
    handle(): SignalBus {
      const mine = new Set<Handler>();
      let closed = false;
      return {
        dropped: 0,
        publish(signal) {
          if (closed) return;
          queue.push(signal);
          if (!scheduled) {
            scheduled = true;
            queueMicrotask(drain);
          }
        },
        async subscribe(handler) {
          const h: Handler = (s) => handler(s);
          handlers.add(h);
          mine.add(h);
          return async () => {
            handlers.delete(h);
            mine.delete(h);
          };
        },
        async close() {
          closed = true;
          for (const h of mine) handlers.delete(h);
          mine.clear();
        },
      };
    },
  };
}
