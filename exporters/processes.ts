/**
 * Process and thread counts by state from /proc/<pid>/stat (node_exporter's
 * `processes` collector). Reading every process is the costliest collection, so it is
 * a slow collector. Cheaper and exact compared with systeminformation's processes(),
 * which spawns `ps`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { parsePidStat, type PidStat } from './procfs/pid-stat.js';
import { isProcfs, readProcOnce, readSingleShot, readText } from './procfs/read.js';

/** At most this many /proc/<pid>/stat reads in flight, to leave libuv's thread pool to others. */
const CONCURRENCY = 16;

/** Longest run of synchronous stat reads before the loop gets a turn, ms. */
const SLICE_MS = 1;

/** Reads the stat of every process; processes that exit meanwhile are skipped. */
export async function readAllPidStats(procfs: string): Promise<PidStat[]> {
  const pids = (await readdir(procfs)).filter((n) => /^\d+$/.test(n));
  return isProcfs(procfs) ? readPidStatsSliced(procfs, pids) : readPidStatsPooled(procfs, pids);
}

/** Adds the parsed stat to `out`, unless it is a half-written stat of an exiting process. */
function pushParsed(out: PidStat[], text: string): void {
  try {
    out.push(parsePidStat(text));
  } catch {
    // a half-written stat of an exiting process
  }
}

/**
 * Under a real procfs: each stat read synchronously (the kernel renders it from memory),
 * in slices of at most SLICE_MS with a turn of the event loop between them. On libuv's
 * pool each process was three hand-overs to a pool thread and back: 91 processes took
 * 6.5 ms of CPU a round that way, 3.2 ms this way (medians of 60 rounds, docs/cost.md).
 */
export async function readPidStatsSliced(procfs: string, pids: readonly string[]): Promise<PidStat[]> {
  const out: PidStat[] = [];
  let sliceStart = performance.now();
  for (const pid of pids) {
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
    const text = readProcOnce(join(procfs, pid, 'stat'));
    if (text !== undefined) pushParsed(out, text);
  }
  return out;
}

/** Elsewhere (a fixture tree): on libuv's pool, CONCURRENCY reads at a time. */
async function readPidStatsPooled(procfs: string, pids: readonly string[]): Promise<PidStat[]> {
  const out: PidStat[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pids.length) {
      const pid = pids[next++]!;
      const text = await readSingleShot(join(procfs, pid, 'stat'));
      if (text === undefined) continue; // exited
      pushParsed(out, text);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, pids.length) }, worker));
  return out;
}

/** The `processes` collector (slow interval). */
export const processesCollector: CollectorDefinition = {
  name: 'processes',
  defaultEnabled: true,
  slow: true,
  create(ctx) {
    const r = ctx.registry;
    const pids = new ConstMetric(r, { name: 'node_processes_pids', help: 'Number of PIDs' });
    const threads = new ConstMetric(r, { name: 'node_processes_threads', help: 'Allocated threads in system' });
    const state = new ConstMetric(r, { name: 'node_processes_state', help: 'Number of processes in each state.' });
    const maxProcs = new ConstMetric(r, { name: 'node_processes_max_processes', help: 'Number of max PIDs limit' });
    const maxThreads = new ConstMetric(r, { name: 'node_processes_max_threads', help: 'Limit of threads in the system' });
    return {
      async update() {
        const procfs = ctx.options.procfs;
        const [stats, pidMax, threadsMax] = await Promise.all([
          readAllPidStats(procfs),
          readText(procfs, 'sys', 'kernel', 'pid_max'),
          readText(procfs, 'sys', 'kernel', 'threads-max'),
        ]);
        const byState = new Map<string, number>();
        let threadCount = 0;
        for (const s of stats) {
          byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
          threadCount += s.numThreads;
        }
        pids.setValue(stats.length);
        threads.setValue(threadCount);
        state.set([...byState].sort(([a], [b]) => (a < b ? -1 : 1)).map(([st, n]) => ({ labels: { state: st }, value: n })));
        maxProcs.setValue(Number(pidMax.trim()));
        maxThreads.setValue(Number(threadsMax.trim()));
      },
    };
  },
};
