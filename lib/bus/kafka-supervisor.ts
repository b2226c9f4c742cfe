import type { Consumer } from "kafkajs";
import { errorFields, type Logger } from "../log/index.ts";

/** The part of a kafkajs consumer the supervisor needs. */
export type SupervisedConsumer = Pick<Consumer, "on" | "events" | "disconnect">;

export interface SuperviseOptions<C extends SupervisedConsumer> {
  groupId: string;
  /** A fresh consumer on the group (same group id each time, so it resumes from its commits). */
  create(): C;
  /** Connect, subscribe and run it. */
  start(consumer: C): Promise<void>;
  log: Logger;
  retryMinMs: number;
  retryMaxMs: number;
}

export interface Supervisor {
  stop(): Promise<void>;
}

/**
 * Keeps a consumer running for as long as it is wanted. kafkajs restarts a consumer by itself only
 * after retriable errors; after a non-retriable crash — "Failed to find group coordinator" while a
 * restarted broker loads its offsets topic is one — it stays stopped, and a replica would go deaf
 * without a sound. Here a fresh consumer takes over on the same group after a backoff, again and
 * again until one runs. The first start is not waited for (joining a group can take a whole session
 * timeout) and is retried like any other.
 */
export function supervise<C extends SupervisedConsumer>(o: SuperviseOptions<C>): Supervisor {
  let stopped = false;
  let current: C | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = o.retryMinMs;

  const scheduleRelaunch = () => {
    if (stopped || timer) return;
    o.log("warn", "kafka consumer is down; starting a new one", { groupId: o.groupId, inMs: delay });
    timer = setTimeout(relaunch, delay);
    delay = Math.min(delay * 2, o.retryMaxMs);
  };

  const launch = async () => {
    const consumer = o.create();
    current = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // A warning either way: kafkajs restarts it, or we replace it below.
      o.log("warn", "kafka consumer crashed", {
        groupId: o.groupId,
        ...errorFields(payload.error),
        restarting: payload.restart,
      });
      if (!payload.restart && consumer === current) scheduleRelaunch();
    });
    // Fetching again means it works: the next failure starts from the shortest wait.
    consumer.on(consumer.events.FETCH, () => {
      delay = o.retryMinMs;
    });
    await o.start(consumer);
  };

  async function relaunch() {
    timer = undefined;
    if (stopped) return;
    await current?.disconnect().catch(() => undefined);
    try {
      await launch();
      if (stopped) await current?.disconnect();
    } catch (err) {
      o.log("warn", "kafka consumer could not start; will retry", {
        groupId: o.groupId,
        ...errorFields(err),
      });
      scheduleRelaunch();
    }
  }

  void relaunch();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current?.disconnect();
    },
  };
}
