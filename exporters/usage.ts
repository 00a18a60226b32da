/**
 * Larder's own simple usage figures (the seed's CPU, memory and disk percentages) as
 * 0–1 ratios, plus a process count: for people who want one number, not PromQL.
 */
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric, type ConstSample } from './const-metric.js';
import { DEFAULT_MOUNT_TIMEOUT_MS } from './filesystem.js';
import { memoryUsageRatio, parseMeminfo } from './procfs/meminfo.js';
import { selectMounts } from './procfs/mounts.js';
import { readText } from './procfs/read.js';
import { busyRatio, parseStat, type CpuTimes } from './procfs/stat.js';
import { BoundedStatfs, fsUsageRatio, readMounts } from './statfs.js';

/** The first CPU ratio needs two readings; the first update takes its second after this pause. */
export const FIRST_CPU_SAMPLE_MS = 250;

/** Counts the numeric folders of procfs: one per process. */
export async function countProcesses(procfs: string): Promise<number> {
  const names = await readdir(procfs);
  let n = 0;
  for (const name of names) if (name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57) n++;
  return n;
}

/** The `usage` collector. */
export const usageCollector: CollectorDefinition = {
  name: 'usage',
  defaultEnabled: true,
  create(ctx) {
    const r = ctx.registry;
    const cpu = new ConstMetric(r, { name: 'larder_cpu_usage_ratio', help: 'Fraction 0-1 of the time of all CPUs spent busy (not idle or iowait) since the previous collection.' });
    const mem = new ConstMetric(r, { name: 'larder_memory_usage_ratio', help: 'Fraction 0-1 of memory in use: 1 - MemAvailable / MemTotal.' });
    const fs = new ConstMetric(r, { name: 'larder_filesystem_usage_ratio', help: 'Fraction 0-1 of a filesystem in use, as df computes Use%: used / (used + available to non-root).' });
    const procs = new ConstMetric(r, { name: 'larder_processes', help: 'Number of processes on the host.' });
    const statfs = new BoundedStatfs(ctx.options.filesystemMountTimeout ?? DEFAULT_MOUNT_TIMEOUT_MS);
    let prev: CpuTimes | undefined;
    const readCpu = async (): Promise<CpuTimes> => parseStat(await readText(ctx.options.procfs, 'stat')).total;
    return {
      async update(signal) {
        const procfs = ctx.options.procfs;
        if (!prev) {
          prev = await readCpu();
          await sleep(FIRST_CPU_SAMPLE_MS, undefined, { signal });
        }
        const [now, meminfo, mounts, count] = await Promise.all([readCpu(), readText(procfs, 'meminfo'), readMounts(procfs), countProcesses(procfs)]);
        const ratio = busyRatio(prev, now);
        // with no tick elapsed keep the last figure rather than report NaN
        if (!Number.isNaN(ratio)) {
          cpu.setValue(ratio);
          prev = now;
        }
        mem.setValue(memoryUsageRatio(parseMeminfo(meminfo)));
        procs.setValue(count);
        const selected = selectMounts(mounts, ctx.options);
        const sizes = await Promise.allSettled(selected.map((m) => statfs.stat(join(ctx.options.rootfs ?? '/', m.mountPoint))));
        const samples: ConstSample[] = [];
        selected.forEach((m, i) => {
          const s = sizes[i]!;
          if (s.status === 'fulfilled') samples.push({ labels: { device: m.device, fstype: m.fsType, mountpoint: m.mountPoint }, value: fsUsageRatio(s.value) });
        });
        fs.set(samples);
      },
    };
  },
};
