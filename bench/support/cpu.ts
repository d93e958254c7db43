import { readdirSync, readFileSync } from 'node:fs';

/*
 * CPU time from /proc, to show where a run's CPU went: the machine as a whole, given processes
 * (Trunkline's gateway, workers and Redis), and this benchmark process itself. Linux counts in
 * clock ticks of 10 ms (USER_HZ = 100 on every Linux this runs on).
 */
const TICK_MS = 10;

/** Busy CPU time of the whole machine so far (all cores; idle and iowait excluded). */
export function machineBusyMs(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) * TICK_MS;
}

/** User + system CPU time of processes so far (0 for ones that are gone). */
export function processesCpuMs(pids: readonly number[]): number {
  let ms = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name (which may contain spaces) start at the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
    } catch {
      // exited
    }
  }
  return ms;
}

/** This process's CPU time so far. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface CpuSplit {
  /** All cores, whole machine. */
  machineMs: number;
  /** The given processes (Trunkline's). */
  processesMs: number;
  /** This benchmark process (client side: HTTP, SSE, checks). */
  selfMs: number;
}

/** Runs fn and returns its result with the CPU time spent meanwhile, split as above. */
export async function measureCpu<T>(pids: readonly number[], fn: () => Promise<T>): Promise<{ result: T; cpu: CpuSplit }> {
  const before = { machine: machineBusyMs(), procs: processesCpuMs(pids), self: selfCpuMs() };
  const result = await fn();
  return {
    result,
    cpu: {
      machineMs: machineBusyMs() - before.machine,
      processesMs: processesCpuMs(pids) - before.procs,
      selfMs: selfCpuMs() - before.self,
    },
  };
}

/** The processes whose parent is `ppid` (from /proc; empty where there is none). */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(name));
    } catch {
      // exited
    }
  }
  return out;
}
