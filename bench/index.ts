/**
 * `bun run bench`: runs every benchmark side by side in one process run and writes
 * docs/benchmarks.md. Each benchmark compares against a baseline measured in the same run, so the
 * figures that matter are ratios, not absolute times on a noisy 2-core machine.
 * `bun run bench codec fanout` runs only the named ones (and does not rewrite the document).
 * Long runs (`soak`, `history-queries`) run only when named; they keep their own section of the document up to date,
 * and a full run carries that section over.
 */
import { cpus } from "node:os";

const all: Record<string, string> = {
  codec: "./codec.ts",
  fanout: "./fanout.ts",
  peers: "./peers.ts",
  replicas: "./replicas.ts",
  kafka: "./kafka.ts",
  "attacks-replay": "./attacks-replay.ts",
};
const onlyWhenNamed: Record<string, { path: string; title: string }> = {
  soak: { path: "./soak.ts", title: "### Soak (3 replicas, 10 minutes)" },
  "history-queries": {
    path: "./history-queries.ts",
    title: "### History queries (one room's reads vs. what other rooms hold)",
  },
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(all);
const sections: string[] = [];
for (const name of names) {
  const path = all[name] ?? onlyWhenNamed[name]?.path;
  if (!path) {
    console.error(
      `unknown benchmark ${name}; known: ${[...Object.keys(all), ...Object.keys(onlyWhenNamed)].join(", ")}`,
    );
    process.exit(2);
  }
  console.error(`bench: running ${name}`);
  const mod = (await import(path)) as { default: () => Promise<string> };
  const section = await mod.default();
  console.log(section);
  sections.push(section);
}

if (wanted.length === 0) {
  const file = new URL("../docs/benchmarks.md", import.meta.url);
  const previous = await Bun.file(file)
    .text()
    .catch(() => "");
  for (const { title } of Object.values(onlyWhenNamed)) {
    const start = previous.indexOf(title);
    if (start < 0) continue;
    const end = previous.indexOf("\n### ", start + title.length);
    sections.push(previous.slice(start, end < 0 ? undefined : end + 1).trimEnd());
  }
  const doc = [
    "# Benchmarks",
    "",
    "Produced by `bun run bench` (all of them, in one run; this file is rewritten by it).",
    `Run on ${new Date().toISOString().slice(0, 10)}: Bun ${Bun.version}, ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores.`,
    "Figures are ratios against a baseline measured side by side in the same run; absolute numbers vary with machine load.",
    "",
    ...sections,
  ].join("\n");
  await Bun.write(file, `${doc}\n`);
  console.error("bench: wrote docs/benchmarks.md");
}
