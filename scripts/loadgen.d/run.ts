import { Api } from "./api.ts";
import { type CheckResult, check, type HistoryEntry } from "./checker.ts";
import { Member, type Outgoing, type Tally } from "./member.ts";
import { checkPresence, type PresenceResult } from "./presence.ts";
import { percentile, rng } from "./stats.ts";

export interface LoadOptions {
  /** Base URL of the deployment: http(s)://host:port (nginx, the one-process app, anything in front). */
  url: string;
  users: number;
  rooms: number;
  /** Members per room, drawn from the users. */
  members: number;
  /** Messages per second over all rooms. */
  rate: number;
  durationSec: number;
  /** Share of the members that leave and come back every `churnEverySec`. */
  churn: number;
  churnEverySec: number;
  /** Share of those that leave by cutting their socket (a crashed client) instead of DISCONNECT. */
  kill: number;
  /** Share of the members that resume from their stored read position instead of x-since-seq. */
  stored: number;
  receiptTimeoutMs: number;
  maxAttempts: number;
  /** Longest wait, after the last send, for every receipted message to reach every member. */
  drainSec: number;
  /** Rooms whose presence is checked at the end (0: none). */
  presenceRooms: number;
  history: boolean;
  /** How many rooms' history to check (0: all); a slow backlog makes each page cost seconds. */
  historyRooms: number;
  seed: number;
  /** User names are <prefix>u<n>: reruns with the same prefix log in instead of signing up. */
  prefix: string;
  password: string;
  /** Called once a second with the running figures (the soak samples them). */
  onSecond?: (p: Progress) => void;
  /** Called when the setup is done and sending starts (the fault suite starts its faults then). */
  onStart?: () => void;
  say?: (line: string) => void;
}

export const defaults: Omit<LoadOptions, "url"> = {
  users: 100,
  rooms: 20,
  members: 5,
  rate: 20,
  durationSec: 60,
  churn: 0.05,
  churnEverySec: 30,
  kill: 0.5,
  stored: 0.2,
  receiptTimeoutMs: 10_000,
  maxAttempts: 30,
  drainSec: 60,
  presenceRooms: 5,
  history: true,
  historyRooms: 0,
  seed: 1,
  prefix: `lg${Date.now().toString(36)}`,
  password: "loadgen password 1",
};

export interface Progress {
  elapsedSec: number;
  connected: number;
  members: number;
  sent: number;
  receipted: number;
  pending: number;
  delivered: number;
  deliveredPerSec: number;
  /** End-to-end latency of the live deliveries (not replays) in the last second, ms. */
  p50: number;
  p99: number;
  /** Those live latencies themselves, ascending (the soak aggregates them per minute). */
  recent: number[];
  reconnects: number;
  refusals: Record<string, number>;
}

export interface LoadReport {
  options: Omit<LoadOptions, "onSecond" | "onStart" | "say" | "password">;
  startedAt: string;
  setupSec: number;
  runSec: number;
  drainSec: number;
  sent: number;
  receipted: number;
  /** Neither receipted nor refused for good when the run ended. */
  noOutcome: number;
  refusedFinal: Record<string, number>;
  delivered: number;
  deliveredPerSec: number;
  /** End-to-end, first send attempt to first delivery at each member: every delivery, and the live ones only. */
  latencyMs: { p50: number; p99: number; max: number; count: number };
  liveLatencyMs: { p50: number; p99: number; max: number; count: number };
  /**
   * Live deliveries timed from the send of the attempt the server accepted (its RECEIPT came): how long
   * a receipted message took to reach members. Unlike the end-to-end figures it leaves out the time a
   * client spent retrying while the bus refused, so it shows a node that takes messages but does not
   * deliver them.
   */
  acceptedLatencyMs: { p50: number; p99: number; max: number; count: number };
  /** The slowest of those, one per message: when (s from the start of sending) it was sent and arrived. */
  slowestAccepted: { sentAtSec: number; arrivedAtSec: number; ms: number }[];
  refusals: Record<string, number>;
  closes: Record<string, number>;
  errors: Record<string, number>;
  timeouts: number;
  retries: number;
  reconnects: number;
  connectFailures: number;
  httpThrottled: Record<string, number>;
  check: CheckResult;
  presence?: PresenceResult;
  ok: boolean;
}

const wsUrlOf = (base: string) => `${base.replace(/^http/, "ws").replace(/\/$/, "")}/ws`;

/** Users and rooms through the HTTP API; every room gets `members` distinct members. */
async function setup(o: LoadOptions, api: Api, random: () => number) {
  const accounts = new Array(o.users);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < o.users; i = next++)
      accounts[i] = await api.account(`${o.prefix}u${i}`, o.password);
  };
  await Promise.all(Array.from({ length: Math.min(8, o.users) }, worker));
  const roomIds: string[] = [];
  const membersOf = new Map<string, number[]>();
  for (let r = 0; r < o.rooms; r++) {
    const chosen = new Set<number>([(r * o.members) % o.users]);
    for (let k = 1; chosen.size < Math.min(o.members, o.users); k++)
      chosen.add((r * o.members + k) % o.users);
    const [owner, ...rest] = [...chosen];
    const id = await api.createRoom(accounts[owner!], `${o.prefix} room ${r}`, Math.max(2, o.members));
    await Promise.all(rest.map((u) => api.join(id, accounts[u])));
    roomIds.push(id);
    membersOf.set(id, [owner!, ...rest]);
  }
  const roomsOf = new Map<number, string[]>();
  for (const [room, users] of membersOf)
    for (const u of users) roomsOf.set(u, [...(roomsOf.get(u) ?? []), room]);
  void random;
  return { accounts, roomIds, membersOf, roomsOf };
}

export async function runLoad(opts: Partial<LoadOptions> & { url: string }): Promise<LoadReport> {
  const o: LoadOptions = { ...defaults, ...opts };
  const say = o.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const random = rng(o.seed);
  const api = new Api(o.url.replace(/\/$/, ""));
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  say(
    `[loadgen] seed ${o.seed}: ${o.users} users, ${o.rooms} rooms × ${o.members} members, ${o.rate} msg/s for ${o.durationSec}s against ${o.url}`,
  );
  const { accounts, roomIds, membersOf, roomsOf } = await setup(o, api, random);

  const sentAt = new Map<string, number>();
  const outgoing: Outgoing[] = [];
  const tally: Tally = {
    refusals: new Map(),
    closes: new Map(),
    errors: new Map(),
    timeouts: 0,
    retries: 0,
    reconnects: 0,
    connectFailures: 0,
    delivered: 0,
    latencies: [],
    onReceipt: () => {
      receipted++;
    },
  };
  let receipted = 0;
  const memberOpts = {
    wsUrl: wsUrlOf(o.url),
    receiptTimeoutMs: o.receiptTimeoutMs,
    maxAttempts: o.maxAttempts,
    sentAt,
  };
  const members: Member[] = [];
  const memberOfUser = new Map<number, Member>();
  for (const [u, rooms] of roomsOf) {
    const m = new Member(accounts[u], rooms, random() < o.stored ? "stored" : "since", memberOpts, tally);
    members.push(m);
    memberOfUser.set(u, m);
  }
  // Connect in waves: a deployment behind nginx limits new connections per client address.
  for (let i = 0; i < members.length; i += 50)
    await Promise.all(members.slice(i, i + 50).map((m) => m.connect()));
  const setupSec = (performance.now() - t0) / 1000;
  say(`[loadgen] set up in ${setupSec.toFixed(1)}s: ${members.length} connections`);

  // The run: messages at the rate, churn every churnEverySec, a progress line every second.
  const runStart = performance.now();
  o.onStart?.();
  let sent = 0;
  let lastDelivered = 0;
  let running = true;
  const sendTimer = setInterval(() => {
    if (!running) return;
    const due = Math.floor((o.rate * (performance.now() - runStart)) / 1000) - sent;
    for (let k = 0; k < due; k++) {
      const room = roomIds[Math.floor(random() * roomIds.length)]!;
      const users = membersOf.get(room)!;
      const sender = memberOfUser.get(users[Math.floor(random() * users.length)]!)!;
      const id = crypto.randomUUID();
      const msg: Outgoing = {
        id,
        room,
        text: `lg ${id} ${"x".repeat(40)}`,
        firstSentAt: performance.now(),
        attemptSentAt: [],
        attempts: 0,
        receipted: false,
      };
      sentAt.set(id, msg.firstSentAt);
      outgoing.push(msg);
      sent++;
      sender.send(msg);
    }
  }, 10);
  const churnTimer =
    o.churn > 0
      ? setInterval(() => {
          if (!running) return;
          const up = members.filter((m) => m.state === "up");
          const n = Math.round(up.length * o.churn);
          for (let k = 0; k < n && up.length > 0; k++) {
            const m = up.splice(Math.floor(random() * up.length), 1)[0]!;
            const how = random() < o.kill ? "kill" : "disconnect";
            void m.leave(how).then(async () => {
              tally.reconnects++;
              await Bun.sleep(100 + random() * 900);
              m.wanted = true;
              await m.connect();
            });
          }
        }, o.churnEverySec * 1000)
      : undefined;
  const progress = (): Progress => {
    const now = performance.now();
    const recent: number[] = [];
    for (let i = tally.latencies.length - 1; i >= 0 && tally.latencies[i]![0] > now - 1000; i--) {
      if (tally.latencies[i]![2] === 0) recent.push(tally.latencies[i]![1]);
    }
    recent.sort((a, b) => a - b);
    const p: Progress = {
      elapsedSec: Math.round((now - runStart) / 1000),
      connected: members.filter((m) => m.state === "up").length,
      members: members.length,
      sent,
      receipted,
      pending: members.reduce((n, m) => n + m.outbox.size, 0),
      delivered: tally.delivered,
      deliveredPerSec: tally.delivered - lastDelivered,
      p50: percentile(recent, 0.5),
      p99: percentile(recent, 0.99),
      recent,
      reconnects: tally.reconnects,
      refusals: Object.fromEntries(tally.refusals),
    };
    lastDelivered = tally.delivered;
    return p;
  };
  const progressTimer = setInterval(() => {
    const p = progress();
    o.onSecond?.(p);
    const refusals = Object.entries(p.refusals)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    say(
      `[loadgen] ${String(p.elapsedSec).padStart(4)}s  conns ${p.connected}/${p.members}  sent ${p.sent}  receipted ${p.receipted}  pending ${p.pending}  delivered ${p.deliveredPerSec}/s  p50 ${p.p50.toFixed(1)} p99 ${p.p99.toFixed(1)} ms  reconnects ${p.reconnects}${refusals ? `  refusals ${refusals}` : ""}`,
    );
  }, 1000);

  await Bun.sleep(o.durationSec * 1000);
  running = false;
  clearInterval(sendTimer);
  if (churnTimer) clearInterval(churnTimer);
  const runSec = (performance.now() - runStart) / 1000;

  // Drain: everyone back online, outboxes empty, every receipted message at every member.
  const drainStart = performance.now();
  for (const m of members) {
    m.wanted = true;
    void m.connect();
  }
  const deadline = drainStart + o.drainSec * 1000;
  const receiptedByRoom = () => {
    const map = new Map<string, Set<string>>();
    for (const msg of outgoing) {
      if (!msg.receipted) continue;
      const set = map.get(msg.room) ?? new Set<string>();
      set.add(msg.id);
      map.set(msg.room, set);
    }
    return map;
  };
  while (performance.now() < deadline) {
    const pending = members.some((m) => m.outbox.size > 0);
    if (!pending) {
      const want = receiptedByRoom();
      if (members.every((m) => m.state === "up" && m.has(want))) break;
    }
    await Bun.sleep(500);
  }
  await Bun.sleep(1_000); // late duplicates, if any, show up too
  clearInterval(progressTimer);
  const drainSec = (performance.now() - drainStart) / 1000;
  for (const msg of outgoing) if (!msg.receipted && !msg.final) msg.final = "no outcome";

  let presence: PresenceResult | undefined;
  if (o.presenceRooms > 0) {
    presence = await checkPresence({
      url: o.url,
      rooms: roomIds.slice(0, o.presenceRooms),
      membersOf,
      memberOfUser,
      random,
      say,
    });
  }
  let history: Map<string, HistoryEntry[]> | undefined;
  if (o.history) {
    const checked = new Map<string, HistoryEntry[]>();
    const rooms = o.historyRooms > 0 ? roomIds.slice(0, o.historyRooms) : roomIds;
    let next = 0;
    const reader = async () => {
      for (let i = next++; i < rooms.length; i = next++) {
        const room = rooms[i]!;
        // A fresh token: the run may have outlasted the one from the setup.
        const member = await api.account(accounts[membersOf.get(room)![0]!].username, o.password);
        const entries = await api.history(room, member);
        checked.set(
          room,
          entries.map((e) => {
            const id = e.type === "message" ? /^lg ([\w-]+) /.exec(e.text)?.[1] : undefined;
            return id ? { seq: e.seq, id } : { seq: e.seq };
          }),
        );
      }
    };
    const t = performance.now();
    await Promise.all(Array.from({ length: 4 }, reader));
    say(`[loadgen] history of ${rooms.length} rooms read in ${((performance.now() - t) / 1000).toFixed(1)}s`);
    history = checked;
  }
  const result = check(
    outgoing,
    members.flatMap((m) => [...m.logs.values()]),
    history,
  );
  await Promise.all(members.map((m) => m.leave("disconnect")));

  const all = tally.latencies.map(([, l]) => l).sort((a, b) => a - b);
  const live = tally.latencies
    .filter(([, , replay]) => replay === 0)
    .map(([, l]) => l)
    .sort((a, b) => a - b);
  const byId = new Map(outgoing.map((m) => [m.id, m]));
  const acceptedLive = tally.latencies
    .filter(([, , replay, id]) => replay === 0 && byId.get(id)?.acceptedSentAt !== undefined)
    .map(([arrival, , , id]) => ({ arrival, id, ms: Math.max(0, arrival - byId.get(id)!.acceptedSentAt!) }));
  const accepted = acceptedLive.map((d) => d.ms).sort((a, b) => a - b);
  const slowestAccepted: LoadReport["slowestAccepted"] = [];
  const slowSeen = new Set<string>();
  for (const d of acceptedLive.sort((a, b) => b.ms - a.ms)) {
    if (slowestAccepted.length === 5) break;
    if (slowSeen.has(d.id)) continue;
    slowSeen.add(d.id);
    slowestAccepted.push({
      sentAtSec: round((byId.get(d.id)!.acceptedSentAt! - runStart) / 1000),
      arrivedAtSec: round((d.arrival - runStart) / 1000),
      ms: round(d.ms),
    });
  }
  const summary = (xs: number[]) => ({
    p50: round(percentile(xs, 0.5)),
    p99: round(percentile(xs, 0.99)),
    max: round(xs.at(-1) ?? 0),
    count: xs.length,
  });
  const refusedFinal: Record<string, number> = {};
  for (const msg of outgoing) if (msg.final) refusedFinal[msg.final] = (refusedFinal[msg.final] ?? 0) + 1;
  const { onSecond: _s, onStart: _t, say: _y, password: _p, ...shown } = o;
  const report: LoadReport = {
    options: shown,
    startedAt,
    setupSec: round(setupSec),
    runSec: round(runSec),
    drainSec: round(drainSec),
    sent,
    receipted,
    noOutcome: refusedFinal["no outcome"] ?? 0,
    refusedFinal,
    delivered: tally.delivered,
    deliveredPerSec: round(tally.delivered / Math.max(1, runSec + drainSec)),
    latencyMs: summary(all),
    liveLatencyMs: summary(live),
    acceptedLatencyMs: summary(accepted),
    slowestAccepted,
    refusals: Object.fromEntries(tally.refusals),
    closes: Object.fromEntries(tally.closes),
    errors: Object.fromEntries(tally.errors),
    timeouts: tally.timeouts,
    retries: tally.retries,
    reconnects: tally.reconnects,
    connectFailures: tally.connectFailures,
    httpThrottled: Object.fromEntries(api.throttled),
    check: result,
    ok: result.ok && (presence?.ok ?? true),
  };
  if (presence) report.presence = presence;
  return report;
}

const round = (n: number) => Math.round(n * 10) / 10;
