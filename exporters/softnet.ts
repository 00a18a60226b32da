/** `node_softnet_*_total{cpu}` from /proc/net/softnet_stat (node_exporter's softnet collector). */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric, type ConstSample } from './const-metric.js';
import { readText } from './procfs/read.js';
import { parseSoftnet, type SoftnetStat } from './procfs/softnet.js';

/** node_exporter's `softnet` collector. */
export const softnetCollector: CollectorDefinition = {
  name: 'softnet',
  defaultEnabled: true,
  create(ctx) {
    const c = (name: string, help: string): ConstMetric => new ConstMetric(ctx.registry, { name, help, type: 'counter' });
    const series: [ConstMetric, (s: SoftnetStat) => number | undefined][] = [
      [c('node_softnet_processed_total', 'Number of processed packets'), (s) => s.processed],
      [c('node_softnet_dropped_total', 'Number of dropped packets'), (s) => s.dropped],
      [c('node_softnet_times_squeezed_total', 'Number of times processing packets ran out of quota'), (s) => s.timeSqueezed],
      [c('node_softnet_received_rps_total', 'Number of times cpu woken up received_rps'), (s) => s.receivedRps],
      [c('node_softnet_flow_limit_count_total', 'Number of times flow limit has been reached'), (s) => s.flowLimitCount],
    ];
    return {
      async update() {
        const stats = parseSoftnet(await readText(ctx.options.procfs, 'net', 'softnet_stat'));
        for (const [metric, pick] of series) {
          const samples: ConstSample[] = [];
          for (const s of stats) {
            const v = pick(s);
            if (v !== undefined) samples.push({ labels: { cpu: s.cpu }, value: v });
          }
          metric.set(samples);
        }
      },
    };
  },
};
