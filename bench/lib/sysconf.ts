/** Kernel constants the benchmarks need. */
import { execFileSync } from 'node:child_process';

/** USER_HZ, the unit of /proc/<pid>/stat CPU times. */
export const sysconf = {
  clockTicks: Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100,
};
