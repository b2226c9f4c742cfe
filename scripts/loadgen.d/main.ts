/**
 * bun run loadgen -- [options]: a ChatTalk workload against any deployment, checked exactly.
 *
 *   --url URL              base URL (default http://127.0.0.1:3000, the one-process app; the cluster
 *                          behind nginx is http://127.0.0.1:58000)
 *   --users N --rooms N --members N     users, rooms, and members per room (drawn from the users)
 *   --rate N               messages per second over all rooms
 *   --duration S           seconds of sending (then a drain until everything has arrived)
 *   --churn F --churn-every S           share of members leaving and coming back every S seconds
 *   --kill F               share of those leaving by cutting the socket (a crashed client)
 *   --stored F             share of members resuming from the stored read position, not x-since-seq
 *   --receipt-timeout MS   a SEND without a RECEIPT by then is sent again (same x-client-msg-id)
 *   --presence-rooms N     rooms whose presence is checked at the end (0: none)
 *   --no-history           skip the history check through GET /api/rooms/:id/messages
 *   --seed N               draws rooms, senders and churn (printed, so a run can be replayed)
 *   --prefix P             user names P u<n> (a rerun with the same prefix logs in instead)
 *   --json FILE            write the full report as JSON
 *
 * A progress line every second on stderr, a summary on stdout; exits 1 when the checker finds a
 * problem (see scripts/loadgen.d/checker.ts for its rules).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { formatSummary } from "./report.ts";
import { defaults, runLoad } from "./run.ts";

function usage(): never {
  const doc = /\/\*\*\n([\s\S]*?)\*\//
    .exec(readFileSync(import.meta.path, "utf8"))![1]!
    .replace(/^ \* ?/gm, "");
  process.stderr.write(doc);
  process.exit(2);
}

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    url: { type: "string", default: "http://127.0.0.1:3000" },
    users: { type: "string" },
    rooms: { type: "string" },
    members: { type: "string" },
    rate: { type: "string" },
    duration: { type: "string" },
    churn: { type: "string" },
    "churn-every": { type: "string" },
    kill: { type: "string" },
    stored: { type: "string" },
    "receipt-timeout": { type: "string" },
    "presence-rooms": { type: "string" },
    "no-history": { type: "boolean" },
    seed: { type: "string" },
    prefix: { type: "string" },
    json: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) usage();
const num = (v: string | undefined, fallback: number, name: string) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`loadgen: --${name} must be a non-negative number\n`);
    usage();
  }
  return n;
};
const seed = num(values.seed, Math.floor(Math.random() * 1_000_000), "seed");
const report = await runLoad({
  url: values.url!,
  users: num(values.users, defaults.users, "users"),
  rooms: num(values.rooms, defaults.rooms, "rooms"),
  members: num(values.members, defaults.members, "members"),
  rate: num(values.rate, defaults.rate, "rate"),
  durationSec: num(values.duration, defaults.durationSec, "duration"),
  churn: num(values.churn, defaults.churn, "churn"),
  churnEverySec: num(values["churn-every"], defaults.churnEverySec, "churn-every"),
  kill: num(values.kill, defaults.kill, "kill"),
  stored: num(values.stored, defaults.stored, "stored"),
  receiptTimeoutMs: num(values["receipt-timeout"], defaults.receiptTimeoutMs, "receipt-timeout"),
  presenceRooms: num(values["presence-rooms"], defaults.presenceRooms, "presence-rooms"),
  history: !values["no-history"],
  seed,
  prefix: values.prefix ?? defaults.prefix,
});
process.stdout.write(`${formatSummary(report)}\n`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
process.exit(report.ok ? 0 : 1);
