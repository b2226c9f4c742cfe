/**
 * Summarises a CPU profile written by `bun --cpu-prof` (Chrome's .cpuprofile JSON) for one question:
 * where does the JavaScript thread's time go, and what blocks it for long stretches?
 *
 *   bun bench/support/cpu-profile.ts <file.cpuprofile> [--from <s>] [--to <s>] [--stall-ms <ms>] [--timeline]
 *
 * Bun samples the JS thread about once a millisecond while it runs, so a sample is ~1 ms of work and a
 * run of samples ~1 ms apart is the event loop busy without a break (a stall for everything queued
 * behind it). Native frames (SQLite's `run`, `JSON.stringify`, …) are charged to the nearest frame of
 * our own code, so the table names files and functions of this repository.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const root = new URL("../..", import.meta.url).pathname;

const path = (url: string) => (url.startsWith("file://") ? url.slice(7) : url);
const label = (f: CallFrame) => {
  const p = path(f.url);
  const where = p.startsWith(root) ? p.slice(root.length) : p || "native";
  return `${f.functionName || "(anonymous)"} (${where}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ""})`;
};
const ours = (f: CallFrame) => path(f.url).startsWith(root) && !f.url.includes("/node_modules/");

export interface ProfileSummary {
  samples: number;
  seconds: number;
  /** Samples by leaf function (self time). */
  self: [string, number][];
  /** Samples by the nearest function of this repository on the stack. */
  ours: [string, number][];
  /** Busy stretches of at least `stallMs`: when (s from start), how long, and what ran most. */
  stalls: { at: number; ms: number; top: string }[];
  /** Per second since the start: samples (~ms busy) and the frame that ran most, to pick a window. */
  timeline: { second: number; samples: number; top: string }[];
}

export function summarise(
  profile: Profile,
  opts: { from?: number; to?: number; stallMs?: number } = {},
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ourFrame = new Map<number, string>();
  const nearestOurs = (id: number): string => {
    const cached = ourFrame.get(id);
    if (cached !== undefined) return cached;
    let at: number | undefined = id;
    let found = "(outside our code)";
    while (at !== undefined) {
      const f = byId.get(at)!.callFrame;
      if (ours(f)) {
        found = label(f);
        break;
      }
      at = parent.get(at);
    }
    ourFrame.set(id, found);
    return found;
  };
  const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const self = new Map<string, number>();
  const mine = new Map<string, number>();
  const stalls: ProfileSummary["stalls"] = [];
  const stallMs = opts.stallMs ?? 10;
  let t = 0;
  let used = 0;
  let first = Number.NaN;
  let last = 0;
  let run: { start: number; end: number; frames: Map<string, number> } | undefined;
  const seconds = new Map<number, Map<string, number>>();
  const closeRun = () => {
    if (run && run.end - run.start >= stallMs) {
      const top = [...run.frames].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
      stalls.push({ at: run.start / 1000, ms: run.end - run.start, top });
    }
    run = undefined;
  };
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]! / 1000; // ms since the profile started
    const s = t / 1000;
    if ((opts.from !== undefined && s < opts.from) || (opts.to !== undefined && s > opts.to)) continue;
    const node = byId.get(profile.samples[i]!)!;
    const name = node.callFrame.functionName;
    if (name === "(idle)" || name === "(program)" || name === "(root)") {
      closeRun();
      continue;
    }
    used++;
    if (Number.isNaN(first)) first = t;
    last = t;
    count(self, label(node.callFrame));
    const frame = nearestOurs(node.id);
    count(mine, frame);
    const second = Math.floor(s);
    if (!seconds.has(second)) seconds.set(second, new Map());
    count(seconds.get(second)!, frame);
    if (run && t - run.end <= 2.5) run.end = t;
    else {
      closeRun();
      run = { start: t, end: t, frames: new Map() };
    }
    count(run.frames, frame);
  }
  closeRun();
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const timeline = [...seconds].map(([second, frames]) => ({
    second,
    samples: [...frames.values()].reduce((a, b) => a + b, 0),
    top: sorted(frames)[0]![0],
  }));
  return {
    samples: used,
    seconds: (last - first) / 1000,
    self: sorted(self),
    ours: sorted(mine),
    stalls,
    timeline,
  };
}

if (import.meta.main) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    console.error("usage: cpu-profile.ts <file.cpuprofile> [--from <s>] [--to <s>] [--stall-ms <ms>]");
    process.exit(2);
  }
  const opt = (name: string) => {
    const at = rest.indexOf(`--${name}`);
    return at >= 0 ? Number(rest[at + 1]) : undefined;
  };
  const summary = summarise((await Bun.file(file).json()) as Profile, {
    from: opt("from"),
    to: opt("to"),
    stallMs: opt("stall-ms"),
  });
  if (rest.includes("--timeline")) {
    for (const t of summary.timeline)
      console.log(`${String(t.second).padStart(4)} s  ${String(t.samples).padStart(4)} ms  ${t.top}`);
    process.exit(0);
  }
  const pct = (n: number) => `${((n / summary.samples) * 100).toFixed(1)}%`;
  console.log(`${summary.samples} samples (~ms of JS) over ${summary.seconds.toFixed(1)} s\n`);
  console.log("by our nearest frame:");
  for (const [k, n] of summary.ours.slice(0, 25)) console.log(`  ${pct(n).padStart(6)}  ${k}`);
  console.log("\nby leaf (self):");
  for (const [k, n] of summary.self.slice(0, 15)) console.log(`  ${pct(n).padStart(6)}  ${k}`);
  console.log(`\nbusy stretches ≥ ${opt("stall-ms") ?? 10} ms: ${summary.stalls.length}`);
  for (const st of summary.stalls.slice(0, 40)) {
    console.log(`  at ${st.at.toFixed(2)} s: ${st.ms.toFixed(0)} ms, mostly ${st.top}`);
  }
}
