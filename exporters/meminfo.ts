/** Every /proc/meminfo field as `node_memory_<field>[_bytes]`, named as node_exporter names them. */
import type { CollectorDefinition } from './collector.js';
import { DynamicFamilies } from './dynamic-metrics.js';
import { parseMeminfo } from './procfs/meminfo.js';
import { readText } from './procfs/read.js';

/**
 * node_exporter's `meminfo` collector. The fields depend on the kernel, so the
 * families are registered as they are read.
 */
export const meminfoCollector: CollectorDefinition = {
  name: 'meminfo',
  defaultEnabled: true,
  create(ctx) {
    const families = new DynamicFamilies(ctx.registry);
    return {
      async update() {
        const fields = parseMeminfo(await readText(ctx.options.procfs, 'meminfo'));
        families.replace(
          fields.map((f) => ({
            name: `node_memory_${f.name}`,
            help: `Memory information field ${f.name}.`,
            type: 'gauge',
            samples: [{ name: `node_memory_${f.name}`, labels: {}, value: f.value }],
          })),
        );
      },
      dynamicMetrics: () => families.names(),
    };
  },
};
