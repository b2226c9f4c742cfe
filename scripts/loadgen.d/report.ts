import type { LoadReport } from "./run.ts";

const kv = (o: Record<string, number>) =>
  Object.keys(o).length === 0
    ? "none"
    : Object.entries(o)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");

/** The plain-text summary printed at the end of a run. */
export function formatSummary(r: LoadReport): string {
  const c = r.check;
  const lines = [
    `ChatTalk load: ${r.options.users} users, ${r.options.rooms} rooms × ${r.options.members} members, ${r.options.rate} msg/s for ${r.runSec}s (seed ${r.options.seed})`,
    `  sent ${r.sent}, receipted ${r.receipted}, no outcome ${r.noOutcome}, refused for good: ${kv(Object.fromEntries(Object.entries(r.refusedFinal).filter(([k]) => k !== "no outcome")))}`,
    `  delivered ${r.delivered} (${r.deliveredPerSec}/s over run and drain); end-to-end latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms (live only: p50 ${r.liveLatencyMs.p50}, p99 ${r.liveLatencyMs.p99}, max ${r.liveLatencyMs.max}; live from the accepted attempt: p50 ${r.acceptedLatencyMs.p50}, p99 ${r.acceptedLatencyMs.p99}, max ${r.acceptedLatencyMs.max})`,
    `  slowest live deliveries after acceptance (sent → arrived, s into the run): ${r.slowestAccepted.map((d) => `${d.sentAtSec} → ${d.arrivedAtSec}`).join(", ") || "none"}`,
    `  lost ${c.lost}, duplicates ${c.duplicates}, written twice ${c.writtenTwice}, reordered ${c.reordered}, history problems ${c.historyProblems}; redelivered after a crash ${c.redelivered} (allowed); delivered without a receipt ${c.unreceiptedDelivered}`,
    `  refusals by code: ${kv(r.refusals)}; receipt timeouts ${r.timeouts}; retries ${r.retries}`,
    `  connection ends: ${kv(r.closes)}; reconnects ${r.reconnects}; failed connects ${r.connectFailures}; ERROR frames: ${kv(r.errors)}`,
  ];
  if (Object.keys(r.httpThrottled).length > 0) lines.push(`  HTTP 429s waited out: ${kv(r.httpThrottled)}`);
  if (r.presence) {
    lines.push(
      `  presence: ${r.presence.converged}/${r.presence.rooms} rooms matched the connected members, slowest after ${r.presence.maxSec}s`,
    );
    for (const p of r.presence.problems.slice(0, 5)) lines.push(`    ${p}`);
  }
  for (const f of c.findings)
    lines.push(`    ${f.rule}: room ${f.room}${f.member ? ` member ${f.member}` : ""}: ${f.detail}`);
  lines.push(r.ok ? "  verdict: OK" : "  verdict: FAILED (see above)");
  return lines.join("\n");
}
