/** What /proc says a running process (and the helpers it started) costs: CPU, RSS, disk writes. */
import { readdirSync, readFileSync } from 'node:fs';
import { sysconf } from './sysconf.js';

/** The fields after the command name of /proc/<pid>/stat (the name may hold spaces). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime+stime of pid, seconds; with `reaped`, plus cutime+cstime (children it has waited for). */
export function cpuSeconds(pid: number, reaped = false): number {
  const f = statFields(pid);
  const ticks = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / sysconf.clockTicks;
}

/** VmRSS of pid, bytes (0 for a process gone or a zombie). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** `write_bytes` of /proc/<pid>/io: bytes this process (its reaped children included) caused to be sent to the storage layer. */
export function writeBytes(pid: number): number {
  const m = /^write_bytes:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

/** The live descendants of pid (children of each of its threads, recursively). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // gone
  }
  for (const tid of threads) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const c of children.split(' ').filter((x) => x !== '')) out.push(Number(c), ...descendants(Number(c)));
  }
  return out;
}

/** Nanoseconds each thread of pid has run on a CPU (`/proc/<pid>/task/<tid>/schedstat`), by "pid/tid". */
function threadNs(pid: number, into: Map<string, number>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // gone
  }
  for (const tid of tids) {
    try {
      into.set(`${pid}/${tid}`, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]));
    } catch {
      // the thread ended meanwhile
    }
  }
}

/** A process tree's cost so far: CPU of the root (reaped children included) and of its live descendants, RSS summed, disk writes. */
export interface TreeCost {
  /** utime+stime, in the kernel's 10 ms ticks: complete (ended threads and reaped helpers included) but coarse. */
  readonly cpuSeconds: number;
  /** Time on a CPU of every live thread of the tree, ns, by "pid/tid": exact, but only for threads still running. */
  readonly threadNs: ReadonlyMap<string, number>;
  readonly rssBytes: number;
  readonly writeBytes: number;
}

/**
 * CPU seconds the tree spent from `a` to `b`: to the nanosecond from its threads, unless
 * the ticks say that threads' time is missing there (a thread or helper that ended, or
 * came and went, between the readings). The ticks are the same runtime cut to whole ticks
 * (utime and stime each rounded down), so within two ticks a process of it, they agree.
 * Over two minutes the ticks alone are ±1 in 7 for node_exporter (0.035 s a minute).
 */
export function cpuSpentSeconds(a: TreeCost, b: TreeCost): number {
  let ns = 0;
  const pids = new Set<string>();
  for (const [k, v] of b.threadNs) {
    ns += v - (a.threadNs.get(k) ?? 0);
    pids.add(k.slice(0, k.indexOf('/')));
  }
  const ticks = b.cpuSeconds - a.cpuSeconds;
  return ticks - ns / 1e9 > (2 * Math.max(1, pids.size)) / sysconf.clockTicks ? ticks : ns / 1e9;
}

/**
 * The cost of pid and the helpers it started. A live helper's CPU and writes count with
 * it; once reaped they are in the root's cutime/cstime and write_bytes (the kernel adds a
 * reaped child's I/O accounting to its parent's).
 */
export function treeCost(pid: number): TreeCost {
  const live = descendants(pid);
  let cpu = cpuSeconds(pid, true);
  let rss = rssBytes(pid);
  let written = writeBytes(pid);
  const threads = new Map<string, number>();
  threadNs(pid, threads);
  for (const c of live) {
    try {
      cpu += cpuSeconds(c, true);
      written += writeBytes(c);
      rss += rssBytes(c);
      threadNs(c, threads);
    } catch {
      // ended between the listing and the read: reaped into the root's figures
    }
  }
  return { cpuSeconds: cpu, threadNs: threads, rssBytes: rss, writeBytes: written };
}
