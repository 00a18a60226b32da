/**
 * The benchmarks' event-loop stall probe, as source to write to a .mjs file.
 *
 * Loaded into Larder with --import: on the first SIGUSR2 it starts a 1 ms interval on
 * the main thread, on the second it writes the longest gaps between two ticks. For
 * each gap it also reads the main thread's scheduler counters (/proc/self/task/<pid>/
 * schedstat: ns on a CPU, ns waiting for one), so a gap spent running Larder's own
 * code (a stall) is told apart from one spent waiting for a CPU that other processes
 * held (this machine is shared). Its 1 ms timer costs CPU, so it runs in a window of
 * its own, never during the CPU window.
 */
export const STALL_PROBE = `import { isMainThread } from 'node:worker_threads';
import { readFileSync, writeFileSync } from 'node:fs';
if (isMainThread) {
  const stat = '/proc/self/task/' + process.pid + '/schedstat';
  const sched = () => readFileSync(stat, 'utf8').split(' ').map(Number);
  let timer, last, lastSched, gaps;
  process.on('SIGUSR2', () => {
    if (timer === undefined) {
      gaps = [];
      last = performance.now();
      lastSched = sched();
      timer = setInterval(() => {
        const now = performance.now();
        const s = sched();
        const gap = now - last;
        if (gap > 2) gaps.push({ atMs: Date.now(), gapMs: gap, runMs: (s[0] - lastSched[0]) / 1e6, waitMs: (s[1] - lastSched[1]) / 1e6 });
        last = now;
        lastSched = s;
      }, 1);
      return;
    }
    clearInterval(timer);
    timer = undefined;
    writeFileSync(process.env.LARDER_BENCH_PROBE_OUT, JSON.stringify(gaps));
  });
}
`;
