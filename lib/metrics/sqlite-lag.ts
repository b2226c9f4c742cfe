import { Database } from "bun:sqlite";
import type { ConsumerLag, LagProbe } from "./kafka-lag.ts";

/**
 * The embedded bus's counterpart of kafkaLagProbe: how far a consumer group (the backlog writer)
 * trails the end of `bus.db`, read on a read-only connection of its own. One "partition", the log.
 * A group that never committed counts from the oldest message the log still holds. It matters more
 * here than on Kafka: the log keeps what the group has not consumed (BUS_LOG_RETENTION_HOURS), so a
 * stuck writer shows as a lag that grows, and as a file that grows.
 */
export function sqliteLagProbe(opts: { path: string; group: string; topic: string }): LagProbe {
  let db: Database | undefined;
  return {
    group: opts.group,
    topic: opts.topic,
    async measure(): Promise<ConsumerLag> {
      db ??= new Database(opts.path, { readonly: true });
      // The last seq given out: the retention never deletes the last row.
      const end = db.query<{ seq: number | null }, []>("SELECT MAX(seq) AS seq FROM log").get()?.seq ?? 0;
      const committed =
        db.query<{ seq: number }, [string]>("SELECT seq FROM consumer_offsets WHERE grp = ?").get(opts.group)
          ?.seq ?? -1;
      const oldest = db.query<{ seq: number | null }, []>("SELECT MIN(seq) AS seq FROM log").get()?.seq;
      const from = committed >= 0 ? committed : oldest == null ? end : oldest - 1;
      const lag = Math.max(0, end - from);
      return {
        group: opts.group,
        topic: opts.topic,
        total: lag,
        partitions: [{ partition: 0, committed, end, lag }],
      };
    },
    async close() {
      db?.close();
      db = undefined;
    },
  };
}
