/** `node_load1/5/15` from /proc/loadavg. */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { parseLoadavg } from './procfs/loadavg.js';
import { readText } from './procfs/read.js';

/** node_exporter's `loadavg` collector. */
export const loadavgCollector: CollectorDefinition = {
  name: 'loadavg',
  defaultEnabled: true,
  create(ctx) {
    const l1 = new ConstMetric(ctx.registry, { name: 'node_load1', help: '1m load average.' });
    const l5 = new ConstMetric(ctx.registry, { name: 'node_load5', help: '5m load average.' });
    const l15 = new ConstMetric(ctx.registry, { name: 'node_load15', help: '15m load average.' });
    return {
      async update() {
        const l = parseLoadavg(await readText(ctx.options.procfs, 'loadavg'));
        l1.setValue(l.load1);
        l5.setValue(l.load5);
        l15.setValue(l.load15);
      },
    };
  },
};
