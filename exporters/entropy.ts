/** `node_entropy_available_bits` and `node_entropy_pool_size_bits` from /proc/sys/kernel/random. */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { num, readText } from './procfs/read.js';

/** node_exporter's `entropy` collector. */
export const entropyCollector: CollectorDefinition = {
  name: 'entropy',
  defaultEnabled: true,
  create(ctx) {
    const available = new ConstMetric(ctx.registry, { name: 'node_entropy_available_bits', help: 'Bits of available entropy.' });
    const pool = new ConstMetric(ctx.registry, { name: 'node_entropy_pool_size_bits', help: 'Bits of entropy pool.' });
    return {
      async update() {
        const [a, p] = await Promise.all([
          readText(ctx.options.procfs, 'sys', 'kernel', 'random', 'entropy_avail'),
          readText(ctx.options.procfs, 'sys', 'kernel', 'random', 'poolsize'),
        ]);
        available.setValue(num(a.trim(), 'entropy_avail'));
        pool.setValue(num(p.trim(), 'poolsize'));
      },
    };
  },
};
