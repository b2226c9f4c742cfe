import { rng } from "../loadgen.d/stats.ts";
import type { ServiceName } from "./stack.ts";

/**
 * The faults of a run, drawn from its seed: every kind once, in a shuffled order, then kinds at
 * random until the fault window is used up. The same seed gives the same faults, targets and times.
 */
export type Fault =
  | { kind: "kill"; target: string }
  | { kind: "freeze"; target: string; holdSec: number }
  | { kind: "restart"; service: ServiceName; holdSec: number }
  | { kind: "nginx-reload" }
  | { kind: "latency"; service: ServiceName; ms: number; holdSec: number }
  | { kind: "blackhole"; service: ServiceName; holdSec: number }
  | { kind: "reset"; service: ServiceName; holdSec: number }
  | { kind: "cut"; service: ServiceName; holdSec: number };

export interface Planned {
  /** Seconds from the start of the fault window. */
  atSec: number;
  fault: Fault;
}

type Template = (pick: <T>(xs: T[]) => T, between: (lo: number, hi: number) => number) => Fault;

const PROCESSES = ["ws-node", "presence-node", "http-api"];
const NET: ServiceName[] = ["postgres", "redis", "kafka", "ferretdb"];

/** One template per kind; ws-node faults hit a random replica. */
export function templates(replicas: number): Template[] {
  const target = (kind: string, pick: <T>(xs: T[]) => T) =>
    kind === "ws-node" ? `ws-node-${pick(Array.from({ length: replicas }, (_, i) => i + 1))}` : kind;
  return [
    ...PROCESSES.map(
      (p): Template =>
        (pick) => ({ kind: "kill", target: target(p, pick) }),
    ),
    ...PROCESSES.map(
      (p): Template =>
        (pick, between) => ({ kind: "freeze", target: target(p, pick), holdSec: between(3, 12) }),
    ),
    ...NET.map(
      (s): Template =>
        (_, between) => ({ kind: "restart", service: s, holdSec: between(2, 10) }),
    ),
    () => ({ kind: "nginx-reload" }),
    (pick, between) => ({
      kind: "latency",
      service: pick(NET),
      ms: between(100, 1500),
      holdSec: between(5, 15),
    }),
    (pick, between) => ({ kind: "blackhole", service: pick(NET), holdSec: between(3, 10) }),
    (pick, between) => ({ kind: "reset", service: pick(NET), holdSec: between(2, 6) }),
    (pick, between) => ({ kind: "cut", service: pick(NET), holdSec: between(3, 10) }),
  ];
}

/** Nominal time a fault takes before the next may start: its hold, plus a service's restart. */
export function costSec(f: Fault): number {
  const hold = "holdSec" in f ? f.holdSec : 0;
  return hold + (f.kind === "restart" ? (f.service === "kafka" ? 20 : 5) : 0) + (f.kind === "kill" ? 1 : 0);
}

export function plan(seed: number, windowSec: number, replicas = 3): Planned[] {
  const random = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const all = templates(replicas);
  const order = all.map((t) => ({ t, k: random() })).sort((a, b) => a.k - b.k);
  const out: Planned[] = [];
  let at = 0;
  for (let i = 0; ; i++) {
    const t = i < order.length ? order[i]!.t : pick(all);
    const fault = t(pick, between);
    if (at + costSec(fault) > windowSec) break;
    out.push({ atSec: at, fault });
    at += costSec(fault) + between(2, 6);
  }
  return out;
}

export function describe(f: Fault): string {
  switch (f.kind) {
    case "kill":
      return `kill -9 ${f.target}`;
    case "freeze":
      return `SIGSTOP ${f.target} for ${f.holdSec}s, then SIGCONT`;
    case "restart":
      return `stop ${f.service}, start it again after ${f.holdSec}s`;
    case "nginx-reload":
      return "nginx reload (SIGHUP)";
    case "latency":
      return `${f.ms} ms latency to ${f.service} for ${f.holdSec}s`;
    case "blackhole":
      return `${f.service} connections stall (data dropped) for ${f.holdSec}s`;
    case "reset":
      return `${f.service} connections reset (RST) for ${f.holdSec}s`;
    case "cut":
      return `${f.service} cut off (proxy disabled, connections closed) for ${f.holdSec}s`;
  }
}
