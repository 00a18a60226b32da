/** `node_sockstat_<PROTO>_<field>` from /proc/net/sockstat and sockstat6 (node_exporter's sockstat collector). */
import type { CollectorDefinition } from './collector.js';
import { DynamicFamilies } from './dynamic-metrics.js';
import type { MetricFamily } from './metric-family.js';
import { readOptional, readText } from './procfs/read.js';
import { parseSockstat } from './procfs/sockstat.js';

/**
 * sockstat's `mem` counts pages. Node has no sysconf(PAGE_SIZE); 4 KiB is the page of
 * x86-64 and of the usual arm64 kernels (64 KiB-page arm64 kernels would read 16× low).
 */
const PAGE_SIZE = 4096;

/** node_exporter's `sockstat` collector. */
export const sockstatCollector: CollectorDefinition = {
  name: 'sockstat',
  defaultEnabled: true,
  create(ctx) {
    const families = new DynamicFamilies(ctx.registry);
    return {
      async update() {
        const [v4, v6] = await Promise.all([readText(ctx.options.procfs, 'net', 'sockstat'), readOptional(ctx.options.procfs, 'net', 'sockstat6')]);
        const out: MetricFamily[] = [];
        const add = (name: string, help: string, value: number): void => void out.push({ name, help, type: 'gauge', samples: [{ name, labels: {}, value }] });
        for (const s of [...parseSockstat(v4), ...(v6 === undefined ? [] : parseSockstat(v6))]) {
          if (s.protocol === 'sockets') {
            add(`node_sockstat_sockets_${s.field}`, 'Number of IPv4 sockets in use.', s.value);
            continue;
          }
          add(`node_sockstat_${s.protocol}_${s.field}`, `Number of ${s.protocol} sockets in state ${s.field}.`, s.value);
          if (s.field === 'mem') add(`node_sockstat_${s.protocol}_mem_bytes`, `Number of ${s.protocol} sockets in state mem_bytes.`, s.value * PAGE_SIZE);
        }
        families.replace(out);
      },
      dynamicMetrics: () => families.names(),
    };
  },
};
