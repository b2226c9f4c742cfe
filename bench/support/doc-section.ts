import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";

const DOC = join(new URL("../..", import.meta.url).pathname, "docs/benchmarks.md");

/**
 * Replaces the section starting with `title` in docs/benchmarks.md (or appends it): benchmarks too
 * long for a full `bun run bench` keep their own section up to date when run by name.
 */
export function writeSection(title: string, section: string): void {
  const doc = readFileSync(DOC, "utf8");
  const start = doc.indexOf(title);
  if (start < 0) {
    writeFileSync(DOC, `${doc.trimEnd()}\n\n${section.trimEnd()}\n`);
    return;
  }
  const next = doc.indexOf("\n### ", start + title.length);
  writeFileSync(DOC, `${doc.slice(0, start)}${section.trimEnd()}\n${next < 0 ? "" : doc.slice(next)}`);
}

/** The closing line of a section: how busy the machine was, the context for every absolute figure. */
export function loadNote(): string {
  const [one, , fifteen] = loadavg();
  return `Load average at the end: ${one!.toFixed(1)} (1 min), ${fifteen!.toFixed(1)} (15 min) on ${navigator.hardwareConcurrency} cores: other work shares the machine, so single figures are noisy.`;
}
