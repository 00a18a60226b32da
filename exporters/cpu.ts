/** `node_cpu_seconds_total{cpu,mode}` and guest time from /proc/stat, as node_exporter's cpu collector. */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric, type ConstSample } from './const-metric.js';
import { readText } from './procfs/read.js';
import { CPU_MODES, parseStat } from './procfs/stat.js';

/**
 * The kernel's per-CPU idle and iowait can step backwards (iowait is an estimate;
 * CPU hotplug resets a CPU), and Prometheus reads any drop of a counter as a reset.
 * As node_exporter does since 1.4, a value lower than the last one is held at the last.
 */
class MonotonicHold {
  private readonly last = new Map<string, number>();

  value(key: string, v: number): number {
    const prev = this.last.get(key);
    if (prev !== undefined && v < prev) return prev;
    this.last.set(key, v);
    return v;
  }
}

/** CPU time by mode, one `cpu` label per logical CPU. */
export const cpuCollector: CollectorDefinition = {
  name: 'cpu',
  defaultEnabled: true,
  create(ctx) {
    const seconds = new ConstMetric(ctx.registry, { name: 'node_cpu_seconds_total', help: 'Seconds the CPUs spent in each mode.', type: 'counter' });
    const guest = new ConstMetric(ctx.registry, {
      name: 'node_cpu_guest_seconds_total',
      help: 'Seconds the CPUs spent in guests (VMs) for each mode.',
      type: 'counter',
    });
    const hold = new MonotonicHold();
    return {
      async update() {
        const stat = parseStat(await readText(ctx.options.procfs, 'stat'));
        const s: ConstSample[] = [];
        const g: ConstSample[] = [];
        for (const c of stat.cpus) {
          for (const mode of CPU_MODES) s.push({ labels: { cpu: c.cpu, mode }, value: hold.value(`${c.cpu}/${mode}`, c.seconds[mode]) });
          g.push({ labels: { cpu: c.cpu, mode: 'user' }, value: hold.value(`${c.cpu}/guest`, c.guest) });
          g.push({ labels: { cpu: c.cpu, mode: 'nice' }, value: hold.value(`${c.cpu}/guest_nice`, c.guestNice) });
        }
        seconds.set(s);
        guest.set(g);
      },
    };
  },
};
