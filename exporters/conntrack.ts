/** `node_nf_conntrack_entries` and `_limit` from /proc/sys/net/netfilter (node_exporter's conntrack collector). */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { num, readOptional } from './procfs/read.js';

/** node_exporter's `conntrack` collector; exposes nothing when the nf_conntrack module is not loaded. */
export const conntrackCollector: CollectorDefinition = {
  name: 'conntrack',
  defaultEnabled: true,
  create(ctx) {
    const entries = new ConstMetric(ctx.registry, { name: 'node_nf_conntrack_entries', help: 'Number of currently allocated flow entries for connection tracking.' });
    const limit = new ConstMetric(ctx.registry, { name: 'node_nf_conntrack_entries_limit', help: 'Maximum size of connection tracking table.' });
    return {
      async update() {
        const [count, max] = await Promise.all([
          readOptional(ctx.options.procfs, 'sys', 'net', 'netfilter', 'nf_conntrack_count'),
          readOptional(ctx.options.procfs, 'sys', 'net', 'netfilter', 'nf_conntrack_max'),
        ]);
        entries.set(count === undefined ? [] : [{ labels: {}, value: num(count.trim(), 'nf_conntrack_count') }]);
        limit.set(max === undefined ? [] : [{ labels: {}, value: num(max.trim(), 'nf_conntrack_max') }]);
      },
    };
  },
};
