/** Parser of /proc/stat: CPU time by mode, interrupts, context switches, forks, boot time, process states. */
import { fields, num } from './read.js';

/** The modes of node_exporter's `node_cpu_seconds_total`, in /proc/stat column order. */
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** A CPU mode name. */
export type CpuMode = (typeof CPU_MODES)[number];

/** Seconds one CPU (or all, for the `cpu` total line) spent in each mode. */
export interface CpuTimes {
  /** `0`, `1`, … for per-CPU lines; `''` for the aggregate line. */
  readonly cpu: string;
  readonly seconds: Readonly<Record<CpuMode, number>>;
  /** Guest time (already included in user/nice by the kernel). */
  readonly guest: number;
  readonly guestNice: number;
}

/** What /proc/stat says. */
export interface ProcStat {
  /** The aggregate `cpu` line. */
  readonly total: CpuTimes;
  /** One per `cpuN` line, in file order. */
  readonly cpus: readonly CpuTimes[];
  /** Interrupts serviced since boot (first field of `intr`). */
  readonly intr: number;
  /** Context switches since boot. */
  readonly ctxt: number;
  /** Boot time, seconds since the epoch. */
  readonly btime: number;
  /** Forks since boot. */
  readonly processes: number;
  readonly procsRunning: number;
  readonly procsBlocked: number;
}

/**
 * Parses /proc/stat. `userHz` is the kernel's USER_HZ (ticks per second of the CPU
 * columns), 100 on every Linux architecture Node runs on.
 */
export function parseStat(text: string, userHz = 100): ProcStat {
  let total: CpuTimes | undefined;
  const cpus: CpuTimes[] = [];
  const found: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const f = fields(line);
    const key = f[0];
    if (key === undefined) continue;
    if (key.startsWith('cpu')) {
      const cpu = key.slice(3);
      if (cpu !== '' && !/^\d+$/.test(cpu)) continue;
      const ticks = f.slice(1).map((t) => num(t, `/proc/stat ${key}`));
      if (ticks.length < 4) throw new Error(`/proc/stat ${key}: expected at least 4 columns, got ${ticks.length}`);
      const seconds = Object.fromEntries(CPU_MODES.map((m, i) => [m, (ticks[i] ?? 0) / userHz])) as Record<CpuMode, number>;
      const times: CpuTimes = { cpu, seconds, guest: (ticks[8] ?? 0) / userHz, guestNice: (ticks[9] ?? 0) / userHz };
      if (cpu === '') total = times;
      else cpus.push(times);
    } else if (['intr', 'ctxt', 'btime', 'processes', 'procs_running', 'procs_blocked'].includes(key)) {
      found[key] = num(f[1], `/proc/stat ${key}`);
    }
  }
  if (!total) throw new Error('/proc/stat: no aggregate cpu line');
  for (const k of ['ctxt', 'btime', 'processes']) if (found[k] === undefined) throw new Error(`/proc/stat: no ${k} line`);
  return {
    total,
    cpus,
    intr: found['intr'] ?? 0,
    ctxt: found['ctxt']!,
    btime: found['btime']!,
    processes: found['processes']!,
    procsRunning: found['procs_running'] ?? 0,
    procsBlocked: found['procs_blocked'] ?? 0,
  };
}

/**
 * Fraction 0–1 of CPU time spent busy (not idle, not iowait) between two readings of
 * the aggregate line; NaN when no time passed.
 */
export function busyRatio(before: CpuTimes, after: CpuTimes): number {
  const sum = (t: CpuTimes): number => CPU_MODES.reduce((acc, m) => acc + t.seconds[m], 0);
  const idle = (t: CpuTimes): number => t.seconds.idle + t.seconds.iowait;
  const dTotal = sum(after) - sum(before);
  if (!(dTotal > 0)) return NaN;
  const ratio = 1 - (idle(after) - idle(before)) / dTotal;
  return Math.min(1, Math.max(0, ratio));
}
