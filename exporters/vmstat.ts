/** `node_vmstat_<field>` from /proc/vmstat, node_exporter's default field selection. */
import type { CollectorDefinition } from './collector.js';
import { DynamicFamilies } from './dynamic-metrics.js';
import { readText } from './procfs/read.js';
import { parseVmstat } from './procfs/vmstat.js';

/** node_exporter's `--collector.vmstat.fields` default. */
export const VMSTAT_FIELDS = /^(oom_kill|pgpg|pswp|pg.*fault).*/;

/** node_exporter's `vmstat` collector (its metrics are untyped there too). */
export const vmstatCollector: CollectorDefinition = {
  name: 'vmstat',
  defaultEnabled: true,
  create(ctx) {
    const families = new DynamicFamilies(ctx.registry);
    return {
      async update() {
        const stats = parseVmstat(await readText(ctx.options.procfs, 'vmstat'), VMSTAT_FIELDS);
        families.replace(
          stats.map((s) => ({
            name: `node_vmstat_${s.name}`,
            help: `/proc/vmstat information field ${s.name}.`,
            type: 'untyped',
            samples: [{ name: `node_vmstat_${s.name}`, labels: {}, value: s.value }],
          })),
        );
      },
      dynamicMetrics: () => families.names(),
    };
  },
};
