/**
 * `bun run bench`: runs the benchmarks side by side and writes their sections of docs/benchmarks.md.
 * Each compares against a baseline measured in the same run, so the figures that matter are ratios,
 * not absolute times on a noisy 2-core machine.
 *
 *   bun run bench                 every part except the opt-in ones (one run, ~20 min on 2 cores)
 *   bun run bench peers kafka     only the named parts
 *   bun run bench all             every part, the opt-in ones too
 *
 * Each part's section is replaced in docs/benchmarks.md (between its markers), the others are kept as
 * they were, each saying when and with what command it was measured.
 */
import { cpus, loadavg } from "node:os";
import { busyPercentOfCore, machineCpu } from "./support/proc-cpu.ts";

interface Part {
  path: string;
  /** Heavy parts that `bun run bench` leaves out; run them by name (or `all`). */
  optIn?: boolean;
}

const parts: Record<string, Part> = {
  codec: { path: "./codec.ts" },
  fanout: { path: "./fanout.ts" },
  peers: { path: "./peers.ts" },
  kafka: { path: "./kafka.ts" },
  replicas: { path: "./replicas.ts" },
  login: { path: "./login-rush.ts" },
  "attacks-replay": { path: "./attacks-replay.ts" },
  "web-bundle": { path: "./web-bundle.ts" },
  typing: { path: "./typing.ts" },
  cluster: { path: "./cluster.ts", optIn: true },
  connections: { path: "./connections-100k.ts", optIn: true },
  soak: { path: "./soak.ts", optIn: true },
  "history-queries": { path: "./history-queries.ts", optIn: true },
  "history-scaling": { path: "./history-scaling.ts", optIn: true },
  "cluster-backlog": { path: "./cluster-backlog.ts", optIn: true },
};

const DOC = new URL("../docs/benchmarks.md", import.meta.url);
const args = process.argv.slice(2);
const names =
  args.length === 0
    ? Object.keys(parts).filter((n) => !parts[n]!.optIn)
    : args.includes("all")
      ? Object.keys(parts)
      : args;
for (const name of names) {
  if (!parts[name]) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(parts).join(", ")}, all`);
    process.exit(2);
  }
}

const marker = (name: string, end = false) => `<!-- bench:${end ? "/" : ""}${name} -->`;

/** The sections of the current document by part name, in the order the parts are listed. */
async function currentSections(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const file = Bun.file(DOC);
  if (!(await file.exists())) return out;
  const text = await file.text();
  for (const name of Object.keys(parts)) {
    const from = text.indexOf(marker(name));
    const to = text.indexOf(marker(name, true));
    if (from >= 0 && to > from) out.set(name, text.slice(from + marker(name).length, to).trim());
  }
  return out;
}

const sections = await currentSections();
const machine = `Bun ${Bun.version}, ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores`;
for (const name of names) {
  console.error(`bench: running ${name}`);
  let section: string;
  let failed = false;
  const cpu0 = await machineCpu();
  const t0 = performance.now();
  try {
    const mod = (await import(parts[name]!.path)) as { default: () => Promise<string> };
    section = await mod.default();
  } catch (err) {
    // One broken part must not cost a long run the others' results; the failure is in its section.
    console.error(`bench: ${name} failed:`, err);
    failed = true;
    const previous = sections.get(name);
    section = `<!-- ${name}: the last run failed (${String(err).replace(/--/g, "-").slice(0, 200)}); earlier results follow -->\n${previous ?? ""}`;
    if (!previous) section = `### ${name}\n\nFailed: ${String(err)}`;
  }
  console.log(section);
  // How busy the machine was meanwhile (this part's processes and anyone else's): the context for
  // every absolute number above, on a shared 2-core machine.
  const busy = busyPercentOfCore(cpu0, await machineCpu());
  const minutes = (performance.now() - t0) / 60_000;
  const stamp = `_Measured ${new Date().toISOString().slice(0, 10)} by \`bun run bench ${name}\` in ${minutes.toFixed(1)} min (${machine}); the machine was ${busy.toFixed(0)}% busy (of ${cpus().length * 100}%) meanwhile, load average ${loadavg()[0]!.toFixed(1)} at the end._`;
  sections.set(name, failed ? section.trimEnd() : `${section.trimEnd()}\n\n${stamp}`);
}

const doc = [
  "# Benchmarks",
  "",
  "Written by `bun run bench` (every part but the opt-in ones, in one run); `bun run bench <part>…` re-measures",
  `only the named parts (${Object.keys(parts).join(", ")}; \`all\` adds the opt-in ones: ${Object.keys(parts)
    .filter((n) => parts[n]!.optIn)
    .join(", ")}) and keeps the other sections. Each section names its command and date. Figures are ratios`,
  "against a baseline measured side by side in the same run; absolute numbers vary with machine load.",
  "",
  ...Object.keys(parts)
    .filter((n) => sections.has(n))
    .flatMap((n) => [marker(n), sections.get(n)!, marker(n, true), ""]),
].join("\n");
await Bun.write(DOC, doc);
console.error("bench: wrote docs/benchmarks.md");
