import type { ClusterProcess, ProcessKind } from "./state.ts";

/**
 * The cluster's own /healthz, /readyz and /metrics (nginx routes them to the supervisor), built from
 * what every app process answers on its own port.
 */

export interface ProcessCheck {
  name: string;
  kind: ProcessKind;
  phase: string;
  restarts: number;
  /** HTTP status of the process's own endpoint, 0 when it did not answer. */
  status: number;
}

export interface Verdict {
  ok: boolean;
  /** Why not, one phrase per missing piece. */
  problems: string[];
}

/**
 * The chat works when the http-api and the presence-node answer and at least one ws-node does:
 * nginx spreads clients over the live replicas, so a dead replica alone is not an outage.
 */
export function verdict(checks: ProcessCheck[]): Verdict {
  const problems: string[] = [];
  for (const kind of ["http-api", "presence-node"] as const) {
    const mine = checks.filter((c) => c.kind === kind);
    if (!mine.some((c) => c.status === 200)) problems.push(`${kind} not answering 200`);
  }
  const ws = checks.filter((c) => c.kind === "ws-node");
  if (!ws.some((c) => c.status === 200)) problems.push(`no ws-node answering 200 (of ${ws.length})`);
  return { ok: problems.length === 0, problems };
}

/**
 * Several processes' Prometheus text expositions as one: each metric family's HELP and TYPE once,
 * followed by every process's samples (their `app` and `node` labels keep them apart).
 */
export function mergeExpositions(texts: string[]): string {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  for (const text of texts) {
    let current: { head: string[]; samples: string[] } | undefined;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        const name = meta[2]!;
        let family = families.get(name);
        if (!family) {
          family = { head: [], samples: [] };
          families.set(name, family);
        }
        if (!family.head.some((h) => h.startsWith(`# ${meta[1]} `))) family.head.push(line);
        current = family;
        continue;
      }
      if (line.startsWith("#")) continue;
      if (!current) {
        const name = /^[a-zA-Z_:][\w:]*/.exec(line)?.[0] ?? line;
        current = families.get(name) ?? { head: [], samples: [] };
        families.set(name, current);
      }
      current.samples.push(line);
    }
  }
  return `${[...families.values()].map((f) => [...f.head, ...f.samples].join("\n")).join("\n")}\n`;
}

/** The supervisor's own figures: restarts and liveness per process. */
export function supervisorExposition(
  processes: ClusterProcess[],
  alive: (p: ClusterProcess) => boolean,
): string {
  const lines = [
    "# HELP chattalk_cluster_process_restarts_total Times scripts/cluster started a process again after it exited",
    "# TYPE chattalk_cluster_process_restarts_total counter",
    ...processes.map(
      (p) => `chattalk_cluster_process_restarts_total{process="${p.name}"} ${p.restarts ?? 0}`,
    ),
    "# HELP chattalk_cluster_process_up Whether the process is running (1) or not (0)",
    "# TYPE chattalk_cluster_process_up gauge",
    ...processes.map((p) => `chattalk_cluster_process_up{process="${p.name}"} ${alive(p) ? 1 : 0}`),
  ];
  return `${lines.join("\n")}\n`;
}
