/** Boot time, context switches, forks, interrupts and runnable/blocked processes from /proc/stat (node_exporter's stat collector). */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { readText } from './procfs/read.js';
import { parseStat } from './procfs/stat.js';

/** node_exporter's `stat` collector. */
export const statCollector: CollectorDefinition = {
  name: 'stat',
  defaultEnabled: true,
  create(ctx) {
    const r = ctx.registry;
    const boot = new ConstMetric(r, { name: 'node_boot_time_seconds', help: 'Node boot time, in unixtime.' });
    const ctxt = new ConstMetric(r, { name: 'node_context_switches_total', help: 'Total number of context switches.', type: 'counter' });
    const forks = new ConstMetric(r, { name: 'node_forks_total', help: 'Total number of forks.', type: 'counter' });
    const intr = new ConstMetric(r, { name: 'node_intr_total', help: 'Total number of interrupts serviced.', type: 'counter' });
    const running = new ConstMetric(r, { name: 'node_procs_running', help: 'Number of processes in runnable state.' });
    const blocked = new ConstMetric(r, { name: 'node_procs_blocked', help: 'Number of processes blocked waiting for I/O to complete.' });
    return {
      async update() {
        const s = parseStat(await readText(ctx.options.procfs, 'stat'));
        boot.setValue(s.btime);
        ctxt.setValue(s.ctxt);
        forks.setValue(s.processes);
        intr.setValue(s.intr);
        running.setValue(s.procsRunning);
        blocked.setValue(s.procsBlocked);
      },
    };
  },
};
