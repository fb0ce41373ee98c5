// CPU accounting for a load phase, from /proc: how much of a core the bot (and Alertmanager, and
// this process with the load generator) used, and how busy the whole machine was. It tells a
// single-threaded bound (bot near 100 % of one core) from a saturated machine (all cores busy).
import { readdir, readFile } from "node:fs/promises";

/** Linux reports process times in USER_HZ ticks, 100 per second on every mainstream platform. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  at: number;
  machine: { busy: number; total: number };
  /** utime + stime in ticks, per watched pid. */
  processes: Map<number, number>;
  self: NodeJS.CpuUsage;
}

export interface CpuReport {
  /** Share of all cores of the machine that were busy, 0-100. */
  machinePercent: number;
  /** Per watched pid: percent of one core (200 = two cores fully). */
  processCorePercent: Map<number, number>;
  /** This process (load generator and Telegram emulator), percent of one core. */
  benchCorePercent: number;
}

async function machineTicks(): Promise<{ busy: number; total: number }> {
  const stat = await readFile("/proc/stat", "utf8").catch(() => "");
  const fields = (stat.split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  // idle and iowait are the not-busy columns
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

async function processTicks(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  // The command name may hold spaces; the fields after it are fixed. utime and stime are the
  // 14th and 15th fields, i.e. the 12th and 13th after the closing parenthesis.
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields === undefined) return undefined;
  return Number(fields[11]) + Number(fields[12]);
}

export async function cpuSnapshot(pids: readonly number[]): Promise<CpuSnapshot> {
  const processes = new Map<number, number>();
  for (const pid of pids) {
    const ticks = await processTicks(pid);
    if (ticks !== undefined) processes.set(pid, ticks);
  }
  return { at: performance.now(), machine: await machineTicks(), processes, self: process.cpuUsage() };
}

export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuReport {
  const seconds = Math.max(1e-3, (after.at - before.at) / 1000);
  const machineTotal = after.machine.total - before.machine.total;
  const processCorePercent = new Map<number, number>();
  for (const [pid, ticks] of after.processes) {
    const start = before.processes.get(pid);
    if (start !== undefined)
      processCorePercent.set(pid, ((ticks - start) / TICKS_PER_SECOND / seconds) * 100);
  }
  const selfMicros = after.self.user - before.self.user + (after.self.system - before.self.system);
  return {
    machinePercent: machineTotal > 0 ? ((after.machine.busy - before.machine.busy) / machineTotal) * 100 : 0,
    processCorePercent,
    benchCorePercent: (selfMicros / 1e6 / seconds) * 100,
  };
}

/** The pid of a running process whose command line holds `argument` (read-only scan of /proc). */
export async function findPidByArgument(argument: string): Promise<number | undefined> {
  const entries = await readdir("/proc").catch(() => []);
  for (const entry of entries.filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0").includes(argument)) return Number(entry);
  }
  return undefined;
}
