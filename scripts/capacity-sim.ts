/**
 * Capacity model and simulation for docs/scaling.md: how many ws-nodes 1M connections and 100k msg/s
 * need, today (every node reads every message) and with interest-based consumption (a node receives
 * only the messages of rooms it has subscribers in), from per-node costs measured by `bun run bench`.
 *
 *   bun scripts/capacity-sim.ts [--connections 1000000] [--rate 100000] [--constants file.json] [--seed 1]
 *
 * A Monte Carlo run: users with one connection each, members of a few rooms of mixed sizes; each
 * connection lands on a random node (nginx least_conn spreads them evenly, without regard to rooms);
 * messages are spread over rooms in proportion to their members. For each node count it computes
 * every node's CPU (one core: Bun runs a node's JavaScript on one thread) and memory, and reports the
 * fewest nodes that keep the busiest node under its budget. Costs are inputs (measured on the 2-core
 * benchmark machine, see docs/scaling.md); the model is a design aid, not a measurement.
 */
import { rng } from "./loadgen.d/stats.ts";

export interface Costs {
  /** Resident memory per idle authenticated connection (KiB). */
  connKiB: number;
  /** CPU per heart-beat, one each way (µs), and the interval (s). */
  heartbeatUs: number;
  heartbeatSec: number;
  /** CPU a node spends on a message it reads and has no subscriber for (µs): fetch, decode, hand-over. */
  consumeUs: number;
  /** Extra CPU per message for a room with subscribers on the node (µs): serialise once per group, publish. */
  roomUs: number;
  /** CPU per copy written to a socket (µs). */
  deliveryUs: number;
  /** CPU to take a SEND: parse, check, produce to Kafka, RECEIPT (µs). */
  sendUs: number;
  /** Backlog writing per message, shared by the nodes (each writes its partitions' share) (µs). */
  backlogUs: number;
  /** Interest-based: CPU for the partition owner to forward one message to one interested node (µs). */
  forwardUs: number;
  /** Share of a core a node may use; the rest is headroom for bursts and GC. */
  coreBudget: number;
  /** Memory a node may use for connections (GiB). */
  memoryGiB: number;
  /** Records/s one Kafka partition takes (for the partition count). */
  partitionRecordsPerSec: number;
}

/**
 * Defaults: measured on the 2-core benchmark machine (docs/benchmarks.md, docs/scaling.md says which
 * run gave each); forwardUs is an estimate, not a measurement (relaying does not exist yet).
 */
export const MEASURED: Costs = {
  connKiB: 2.7, // 100k connections over ws-nodes; the whole one-process app: 3.3–4.5
  heartbeatUs: 17, // 100k connections, per heart-beat each way, idle overhead included
  heartbeatSec: 10,
  consumeUs: 12.5, // the Kafka fan-out reader, per message, nothing local to deliver
  roomUs: 10, // serialise once per group + publish, for a room with local subscribers
  deliveryUs: 0.5, // W1 over the wire: server CPU per delivery
  sendUs: 35, // a SEND: parse, check, produce, RECEIPT (the Kafka bench's node minus the parts above)
  backlogUs: 32, // the backlog writer on the node, per message (FerretDB/MongoDB's own CPU not included)
  forwardUs: 3,
  coreBudget: 0.7,
  memoryGiB: 8,
  partitionRecordsPerSec: 8_000, // Kafka's ProducerPerformance on this box, per partition
};

export interface Workload {
  connections: number;
  /** Messages per second over the whole cluster. */
  rate: number;
  /** Rooms each user is a member of (and subscribed to while connected). */
  roomsPerUser: number;
}

/** Room sizes: most chats are small; a few are large. [size range, share of memberships]. */
const SIZE_MIX: [number, number, number][] = [
  [2, 5, 0.6],
  [6, 50, 0.3],
  [51, 1_000, 0.1],
];

interface Rooms {
  /** members[r] = user ids of room r (flattened: offsets into `memberUsers`). */
  start: Int32Array;
  memberUsers: Int32Array;
  count: number;
}

/** Builds rooms of mixed sizes until every user has `roomsPerUser` memberships on average. */
export function makeRooms(users: number, roomsPerUser: number, random: () => number): Rooms {
  const memberships = users * roomsPerUser;
  const sizes: number[] = [];
  for (const [lo, hi, share] of SIZE_MIX) {
    let left = memberships * share;
    while (left > 0) {
      const size = Math.min(users, lo + Math.floor(random() * (hi - lo + 1)));
      sizes.push(size);
      left -= size;
    }
  }
  const start = new Int32Array(sizes.length + 1);
  for (let r = 0; r < sizes.length; r++) start[r + 1] = start[r]! + sizes[r]!;
  const memberUsers = new Int32Array(start[sizes.length]!);
  for (let i = 0; i < memberUsers.length; i++) memberUsers[i] = Math.floor(random() * users);
  return { start, memberUsers, count: sizes.length };
}

export interface NodeLoad {
  nodes: number;
  /** The busiest node's CPU, in cores, by part. */
  busiest: {
    total: number;
    consume: number;
    rooms: number;
    deliveries: number;
    sends: number;
    other: number;
  };
  /** Mean over nodes of the share of the cluster's messages a node handles. */
  readShare: number;
  memoryGiB: number;
}

/**
 * How a node gets the messages it fans out:
 *   all        — every node reads every partition (today);
 *   partitions — a node reads only the Kafka partitions that hold one of its rooms (`partitions` of them);
 *   rooms      — a node gets only the messages of its rooms, forwarded by the owner of each partition.
 */
export type Strategy = { kind: "all" } | { kind: "partitions"; partitions: number } | { kind: "rooms" };

/**
 * Per-node load for `nodes` nodes. Users' connections are spread at random; a room's messages/s is
 * its share of memberships times the rate; each message is sent from a random member's node.
 */
export function nodeLoad(
  rooms: Rooms,
  w: Workload,
  c: Costs,
  nodes: number,
  strategy: Strategy,
  random: () => number,
): NodeLoad {
  const nodeOf = new Int32Array(w.connections);
  for (let u = 0; u < w.connections; u++) nodeOf[u] = Math.floor(random() * nodes);
  const memberships = rooms.start[rooms.count]!;
  const perMembership = w.rate / memberships;
  const roomsRate = new Float64Array(nodes); // messages/s of rooms with local subscribers
  const deliveries = new Float64Array(nodes);
  const sends = new Float64Array(nodes);
  const relays = new Float64Array(nodes); // copies forwarded by partition owners
  const seen = new Int32Array(nodes).fill(-1);
  const P = strategy.kind === "partitions" ? strategy.partitions : 1;
  const partitionRate = new Float64Array(P);
  const touched = strategy.kind === "partitions" ? new Uint8Array(nodes * P) : undefined;
  for (let r = 0; r < rooms.count; r++) {
    const from = rooms.start[r]!;
    const to = rooms.start[r + 1]!;
    const rate = (to - from) * perMembership;
    let interested = 0;
    for (let i = from; i < to; i++) {
      const n = nodeOf[rooms.memberUsers[i]!]!;
      deliveries[n]! += rate;
      if (seen[n] !== r) {
        seen[n] = r;
        roomsRate[n]! += rate;
        interested++;
        if (touched) touched[n * P + (r % P)] = 1;
      }
      sends[n]! += rate / (to - from);
    }
    // The owner of the room's partition (a node chosen by the partition) forwards to each interested node.
    relays[r % nodes]! += rate * interested;
    partitionRate[r % P]! += rate;
  }
  const conns = new Float64Array(nodes);
  for (let u = 0; u < w.connections; u++) conns[nodeOf[u]!]!++;
  let best: NodeLoad["busiest"] = { total: 0, consume: 0, rooms: 0, deliveries: 0, sends: 0, other: 0 };
  let readSum = 0;
  let maxConns = 0;
  for (let n = 0; n < nodes; n++) {
    let read = w.rate;
    if (strategy.kind === "rooms") read = roomsRate[n]!;
    else if (touched) {
      read = 0;
      for (let p = 0; p < P; p++) if (touched[n * P + p]) read += partitionRate[p]!;
    }
    readSum += read / w.rate;
    const forward = strategy.kind === "rooms" ? relays[n]! * c.forwardUs : 0;
    const consume = (read * c.consumeUs + forward) / 1e6;
    const roomsCpu = (roomsRate[n]! * c.roomUs) / 1e6;
    const deliveryCpu = (deliveries[n]! * c.deliveryUs) / 1e6;
    const sendCpu = (sends[n]! * c.sendUs) / 1e6;
    const other = ((w.rate / nodes) * c.backlogUs + (conns[n]! / c.heartbeatSec) * c.heartbeatUs) / 1e6;
    const total = consume + roomsCpu + deliveryCpu + sendCpu + other;
    if (total > best.total)
      best = { total, consume, rooms: roomsCpu, deliveries: deliveryCpu, sends: sendCpu, other };
    maxConns = Math.max(maxConns, conns[n]!);
  }
  return { nodes, busiest: best, readShare: readSum / nodes, memoryGiB: (maxConns * c.connKiB) / 2 ** 20 };
}

/** The fewest nodes that keep the busiest one under the CPU and memory budgets (undefined if none up to `max`). */
export function nodesNeeded(
  rooms: Rooms,
  w: Workload,
  c: Costs,
  strategy: Strategy,
  seed: number,
  max = 4_096,
): { needed?: NodeLoad; atMax: NodeLoad } {
  const fits = (l: NodeLoad) => l.busiest.total <= c.coreBudget && l.memoryGiB <= c.memoryGiB;
  const at = (n: number) => nodeLoad(rooms, w, c, n, strategy, rng(seed + n));
  let lo = 1;
  let hi = 1;
  while (hi < max && !fits(at(hi))) hi *= 2;
  const atMax = at(Math.min(hi, max));
  if (!fits(atMax)) return { atMax };
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fits(at(mid))) hi = mid;
    else lo = mid + 1;
  }
  return { needed: at(hi), atMax };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const file = args.includes("--constants") ? args[args.indexOf("--constants") + 1] : undefined;
  const costs: Costs = { ...MEASURED, ...(file ? ((await Bun.file(file).json()) as Partial<Costs>) : {}) };
  const seed = opt("seed", 1);
  const w: Workload = {
    connections: opt("connections", 1_000_000),
    rate: opt("rate", 100_000),
    roomsPerUser: 3,
  };
  const rooms = makeRooms(w.connections, w.roomsPerUser, rng(seed));
  const f = (n: number, d = 2) => n.toFixed(d);
  console.log(
    `# ${w.connections.toLocaleString("en-US")} connections, ${w.rate.toLocaleString("en-US")} msg/s`,
  );
  console.log(
    `rooms: ${rooms.count.toLocaleString("en-US")}, memberships: ${rooms.start[rooms.count]!.toLocaleString("en-US")}`,
  );
  console.log(`costs: ${JSON.stringify(costs)}`);
  console.log(
    `all-read ceiling: the consume cost alone fills a node's budget at ${Math.round((costs.coreBudget * 1e6) / costs.consumeUs).toLocaleString("en-US")} msg/s of cluster traffic`,
  );
  console.log(`Kafka partitions for the rate: ${Math.ceil(w.rate / costs.partitionRecordsPerSec)}`);
  const strategies: [string, Strategy][] = [
    ["every node reads every partition (today)", { kind: "all" }],
    [
      "a node reads only partitions holding its rooms (256 partitions)",
      { kind: "partitions", partitions: 256 },
    ],
    ["interest-based: a node gets only its rooms' messages", { kind: "rooms" }],
  ];
  for (const [name, strategy] of strategies) {
    const { needed, atMax } = nodesNeeded(rooms, w, costs, strategy, seed);
    const l = needed ?? atMax;
    const b = l.busiest;
    console.log(
      `${name}: ${needed ? `${needed.nodes} nodes` : `no node count up to ${atMax.nodes} fits`}; busiest node ${f(b.total)} cores ` +
        `(consume ${f(b.consume)}, rooms ${f(b.rooms)}, deliveries ${f(b.deliveries)}, sends ${f(b.sends)}, backlog+heart-beats ${f(b.other)}), ` +
        `reads ${f(l.readShare * 100, 1)}% of the traffic, ${f(l.memoryGiB)} GiB of connections`,
    );
  }
  console.log("\nbusiest node's CPU (cores) by node count:");
  console.log("nodes | today | partitions (256) | interest-based | share of traffic read (interest-based)");
  for (const n of [8, 16, 32, 64, 128, 256, 512, 1024]) {
    const load = (st: Strategy) => nodeLoad(rooms, w, costs, n, st, rng(seed + n));
    const [a, p, r] = strategies.map(([, st]) => load(st));
    console.log(
      `${n} | ${f(a!.busiest.total)} | ${f(p!.busiest.total)} | ${f(r!.busiest.total)} | ${f(r!.readShare * 100, 1)}%`,
    );
  }
}
