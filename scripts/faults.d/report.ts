import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { formatSummary } from "../loadgen.d/report.ts";
import type { LoadReport } from "../loadgen.d/run.ts";
import type { Injected } from "./inject.ts";

export interface FaultRun {
  seed: number;
  minutes: number;
  startedAt: string;
  injected: Injected[];
  load: LoadReport;
  /** Restarts per process, as the cluster's supervisor counted them. */
  restarts: Record<string, number>;
}

const ROWS = /<!-- runs -->\n([\s\S]*?)<!-- \/runs -->/;
const LATEST = /<!-- latest -->\n[\s\S]*?<!-- \/latest -->/;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function runRow(r: FaultRun): string {
  const c = r.load.check;
  const p = r.load.presence;
  return `| ${r.startedAt.slice(0, 16).replace("T", " ")} | ${r.seed} | ${r.minutes} | ${r.injected.length} | ${r.load.sent} | ${r.load.receipted} | ${c.lost} | ${c.duplicates} | ${c.writtenTwice} | ${c.reordered} | ${c.historyProblems} | ${p ? `${p.converged}/${p.rooms} in ${p.maxSec}s` : "-"} | ${seconds(r.load.acceptedLatencyMs.p99)} / ${seconds(r.load.acceptedLatencyMs.max)} | ${r.load.ok ? "OK" : "FAILED"} |`;
}

export function latestSection(r: FaultRun): string {
  const faults = r.injected
    .map((f) => `| ${f.atSec} | ${f.tookSec} | ${f.what} | ${f.note ?? ""} |`)
    .join("\n");
  const restarts = Object.entries(r.restarts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");
  return `<!-- latest -->
### Latest run: seed ${r.seed}, ${r.minutes} minutes (${r.startedAt})

Replay: \`bun run faults -- --seed ${r.seed} --minutes ${r.minutes}\`. Restarts by the supervisor: ${restarts || "none"}.

\`\`\`
${formatSummary(r.load)}
\`\`\`

Faults, in seconds from the start of the fault window (the load started 10 s earlier):

| at s | took s | fault | note |
| ---: | ---: | --- | --- |
${faults}
<!-- /latest -->`;
}

/** Adds the run's row to docs/reliability.md and replaces the latest run's section. */
export function writeReliability(file: string, r: FaultRun): void {
  if (!existsSync(file)) throw new Error(`${file} is missing (it holds the suite's description and markers)`);
  let doc = readFileSync(file, "utf8");
  const rows = ROWS.exec(doc);
  if (!rows || !LATEST.test(doc))
    throw new Error(`${file} lacks the <!-- runs --> or <!-- latest --> markers`);
  doc = doc.replace(ROWS, `<!-- runs -->\n${rows[1]}${runRow(r)}\n<!-- /runs -->`);
  doc = doc.replace(LATEST, latestSection(r));
  writeFileSync(file, doc);
}
