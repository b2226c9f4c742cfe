import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, type Fault, type Planned } from "./schedule.ts";
import type { Stack } from "./stack.ts";

export interface Injected {
  atSec: number;
  tookSec: number;
  what: string;
  /** Anything that did not go as planned (a pid not found, a service that did not come back). */
  note?: string;
}

/** The pid the cluster's supervisor runs a process under right now. */
export function pidOf(stack: Stack, name: string): number | undefined {
  const state = JSON.parse(readFileSync(join(stack.clusterDir, "state.json"), "utf8")) as {
    processes: { name: string; pid: number }[];
  };
  return state.processes.find((p) => p.name === name)?.pid;
}

function signal(pid: number | undefined, sig: NodeJS.Signals): string | undefined {
  if (!pid) return "no pid";
  try {
    process.kill(pid, sig);
    return undefined;
  } catch (err) {
    return String(err);
  }
}

/** Applies one fault and, for those that last, waits its hold and undoes it. */
async function apply(stack: Stack, f: Fault): Promise<string | undefined> {
  const tox = stack.toxiproxy!;
  switch (f.kind) {
    case "kill":
      return signal(pidOf(stack, f.target), "SIGKILL");
    case "freeze": {
      const pid = pidOf(stack, f.target);
      const note = signal(pid, "SIGSTOP");
      await Bun.sleep(f.holdSec * 1000);
      signal(pid, "SIGCONT");
      return note;
    }
    case "restart": {
      const down = await stack.services("down", f.service);
      await Bun.sleep(f.holdSec * 1000);
      const up = await stack.services("up", f.service);
      return down !== 0 || up !== 0 ? `services down=${down} up=${up}` : undefined;
    }
    case "nginx-reload":
      return signal(pidOf(stack, "nginx"), "SIGHUP");
    case "latency":
      await tox.addToxic(f.service, "latency", { latency: f.ms, jitter: Math.round(f.ms / 4) });
      await Bun.sleep(f.holdSec * 1000);
      await tox.removeToxic(f.service, "latency");
      return undefined;
    case "blackhole":
      await tox.addToxic(f.service, "timeout", { timeout: 0 });
      await Bun.sleep(f.holdSec * 1000);
      await tox.removeToxic(f.service, "timeout");
      return undefined;
    case "reset":
      await tox.addToxic(f.service, "reset_peer", { timeout: 0 });
      await Bun.sleep(f.holdSec * 1000);
      await tox.removeToxic(f.service, "reset_peer");
      return undefined;
    case "cut":
      await tox.setEnabled(f.service, false);
      await Bun.sleep(f.holdSec * 1000);
      await tox.setEnabled(f.service, true);
      return undefined;
  }
}

/** Runs the plan in real time from now; stops early when `stopped()` says so. */
export async function inject(
  stack: Stack,
  planned: Planned[],
  say: (line: string) => void,
  stopped: () => boolean,
): Promise<Injected[]> {
  const start = performance.now();
  const done: Injected[] = [];
  for (const p of planned) {
    const wait = start + p.atSec * 1000 - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    if (stopped()) break;
    const at = (performance.now() - start) / 1000;
    const what = describe(p.fault);
    say(`[faults] ${at.toFixed(0)}s: ${what}`);
    let note: string | undefined;
    try {
      note = await apply(stack, p.fault);
    } catch (err) {
      note = String(err);
    }
    const tookSec = Math.round((performance.now() - start) / 100) / 10 - Math.round(at * 10) / 10;
    if (note) say(`[faults]   note: ${note}`);
    done.push({
      atSec: Math.round(at * 10) / 10,
      tookSec: Math.round(tookSec * 10) / 10,
      what,
      ...(note ? { note } : {}),
    });
  }
  return done;
}
