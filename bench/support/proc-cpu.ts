/**
 * CPU time from /proc, for benchmarks that run their servers as separate processes: what the servers
 * used, and how busy the whole machine (Kafka and every other service included) was meanwhile.
 */
import { cpus } from "node:os";

/** Linux reports /proc times in clock ticks of 1/100 s (USER_HZ) on every common architecture. */
const TICK_MS = 10;

/** User + system CPU time of a process so far, in ms. */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text();
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

export interface MachineCpu {
  busyMs: number;
  totalMs: number;
}

/** Busy and total CPU time of the machine since boot, over all cores, in ms. */
export async function machineCpu(): Promise<MachineCpu> {
  const line = (await Bun.file("/proc/stat").text()).split("\n")[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  // Steal is time the hypervisor gave to someone else: neither our work nor idle capacity we had.
  const busyMs = (user! + nice! + system! + irq! + softirq!) * TICK_MS;
  return { busyMs, totalMs: busyMs + (idle! + iowait! + steal!) * TICK_MS };
}

/** Share of the machine's cores busy between two readings, in % of one core (2 cores → up to 200). */
export function busyPercentOfCore(before: MachineCpu, after: MachineCpu): number {
  const total = after.totalMs - before.totalMs;
  return total > 0 ? ((after.busyMs - before.busyMs) / total) * 100 * cpus().length : 0;
}

/** The pids of a process's children (Linux's /proc/<pid>/task/<pid>/children); none if unreadable. */
export async function childPids(pid: number): Promise<number[]> {
  const file = Bun.file(`/proc/${pid}/task/${pid}/children`);
  if (!(await file.exists())) return [];
  return (await file.text()).split(" ").filter(Boolean).map(Number);
}

/** CPU ms so far of each process still running; a process gone meanwhile is left out. */
export async function cpuSnapshot(pids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const ms = await processCpuMs(pid).catch(() => undefined);
    if (ms !== undefined) out.set(pid, ms);
  }
  return out;
}

/** CPU ms used between two snapshots; a process that appeared in between counts whole. */
export function cpuDeltaMs(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}
