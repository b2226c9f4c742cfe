/** The markdown section of the replicas benchmark (bench/replicas.ts), from its measured steps. */
import { fmtInt } from "./child.ts";

export const REPLICAS_TITLE = "### Replicas through Kafka (1 vs 3)";

/** One measured step; CPU figures in % of one core over the step. */
export interface StepRow {
  setup: string;
  load: string;
  offered: string;
  achieved: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  missing: number;
  errors: number;
  nodeCpu: number;
  /** NaN when the broker's process is not known. */
  kafkaCpu: number;
  /** Postgres (with its backends), FerretDB and Redis. */
  servicesCpu: number;
  clientCpu: number;
  machineCpu: number;
}

export interface Method {
  rooms: number;
  sendersPerRoom: number;
  receiversPerRoom: number;
  warmupMs: number;
  stepMs: number;
  warmupRate: number;
  firstRate: number;
  window: number;
}

const pct = (v: number) => (Number.isNaN(v) ? "–" : `${v.toFixed(0)}%`);
const ms = (v: number) => v.toFixed(1);

export function replicasReport(rows: StepRow[], m: Method): string {
  const line = (r: StepRow) =>
    `| ${[
      r.setup,
      r.load,
      r.offered,
      fmtInt(r.achieved),
      fmtInt(r.delivered),
      ms(r.p50),
      ms(r.p99),
      ms(r.max),
      pct(r.nodeCpu),
      pct(r.kafkaCpu),
      pct(r.servicesCpu),
      pct(r.clientCpu),
      pct(r.machineCpu),
    ].join(" | ")} |`;
  const lost = rows.reduce((a, r) => a + r.missing + r.errors, 0);
  const best = (setup: string) => Math.max(...rows.filter((r) => r.setup === setup).map((r) => r.achieved));
  const accounted = (r: StepRow) =>
    r.nodeCpu + (Number.isNaN(r.kafkaCpu) ? 0 : r.kafkaCpu) + r.servicesCpu + r.clientCpu;
  const elsewhere = rows.reduce((a, r) => a + Math.max(0, r.machineCpu - accounted(r)), 0) / rows.length;
  const first = (setup: string) => rows.find((r) => r.setup === setup)!;
  return [
    REPLICAS_TITLE,
    "",
    `${m.rooms} rooms, each with one sending user on ${m.sendersPerRoom} connections and ${m.receiversPerRoom} receiving`,
    "members (ack auto). Setup A: one `apps/ws-node/main.ts` process; setup B: three. Both on the same real",
    "Kafka (one broker, acks=all, a new topic of 6 partitions per setup), Postgres, Redis and the MongoDB",
    "protocol (FerretDB) from `scripts/services`; LOG_LEVEL=warn, SEND rate limits raised. A node fans out",
    "only what its Kafka consumer reads back, so both setups go through Kafka; in B a room's senders are on",
    "one node and its receivers on the two others, so every delivery crosses between processes. All clients",
    "live in one child process (bench/support/latency-clients.ts), which notes the time of each SEND and of",
    "each MESSAGE arriving for it, on one clock: latency is client send → client receive.",
    `After a ${m.warmupMs / 1000} s warm-up at ${m.warmupRate} msg/s, each step runs ${m.stepMs / 1000} s: open-loop steady`,
    "rates (due SENDs go out every 2 ms, round-robin over the sender connections), then a closed loop with",
    `${m.window} SENDs awaiting their RECEIPT on every sender connection: a connection's frames are handled one`,
    "at a time (membership check in Postgres, then Kafka's acknowledgement before the RECEIPT), so",
    "throughput comes from many connections. Achieved = RECEIPTs received within the step per second;",
    `delivered = MESSAGE frames received per second (${m.receiversPerRoom} per message). Latency percentiles are`,
    "over every delivery of the step's messages, including those arriving after it. CPU in % of one core",
    "(2 cores = 200%) during the step: the ws-node processes together, the Kafka broker, Postgres +",
    "FerretDB + Redis, the client process, and the whole machine.",
    "",
    "| setup | load | offered msg/s | achieved msg/s | delivered/s | p50 ms | p99 ms | max ms | ws-node CPU | Kafka CPU | PG+FerretDB+Redis CPU | client CPU | machine CPU |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(line),
    "",
    `**At ${m.firstRate} msg/s: p50 ${ms(first("1 replica").p50)} ms / p99 ${ms(first("1 replica").p99)} ms with one replica,`,
    `p50 ${ms(first("3 replicas").p50)} ms / p99 ${ms(first("3 replicas").p99)} ms with three. Highest throughput:`,
    `${fmtInt(best("1 replica"))} msg/s with one replica, ${fmtInt(best("3 replicas"))} msg/s with three.**`,
    lost === 0
      ? "Every receipted message reached every receiver; no ERROR frame, no closed socket."
      : `**${lost} deliveries missing, ERROR frames or closed sockets**: see the run's stderr.`,
    "",
    "What limits it: this machine has 2 cores for everything, the replicas, the Kafka JVM, Postgres,",
    "FerretDB, Redis and the client. Three replicas each read every message from Kafka (each node's",
    "fan-out consumer gets all partitions) and each pays its own consumer, producer, Postgres and",
    `WebSocket work, so on 2 cores they are not expected to be faster than one (${
      best("3 replicas") < best("1 replica") ? "and here they are not" : "here they kept up"
    }): B measures`,
    "the cost of crossing replicas, not scaling, which needs the replicas on machines of their own. The",
    "machine CPU column shows how close the cores are to saturation; other work on the machine, outside",
    `the processes above, took ${elsewhere.toFixed(0)}% of a core on average during the steps, so the figures`,
    "vary from run to run.",
    "",
  ].join("\n");
}
