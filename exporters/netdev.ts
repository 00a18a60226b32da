/** `node_network_{receive,transmit}_*_total{device}` from /proc/net/dev (node_exporter's netdev collector). */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric, type ConstSample } from './const-metric.js';
import { parseNetDev } from './procfs/netdev.js';
import { readText } from './procfs/read.js';

/** The columns of /proc/net/dev since Linux 2.6, in node_exporter's names. */
export const NETDEV_COUNTERS = [
  'receive_bytes', 'receive_packets', 'receive_errs', 'receive_drop', 'receive_fifo', 'receive_frame', 'receive_compressed', 'receive_multicast',
  'transmit_bytes', 'transmit_packets', 'transmit_errs', 'transmit_drop', 'transmit_fifo', 'transmit_colls', 'transmit_carrier', 'transmit_compressed',
] as const;

/** node_exporter's `netdev` collector, honouring the device include/exclude patterns. */
export const netdevCollector: CollectorDefinition = {
  name: 'netdev',
  defaultEnabled: true,
  create(ctx) {
    const metrics = new Map(
      NETDEV_COUNTERS.map((c) => [c, new ConstMetric(ctx.registry, { name: `node_network_${c}_total`, help: `Network device statistic ${c}.`, type: 'counter' })]),
    );
    return {
      async update() {
        const { netdevDeviceExclude: exclude, netdevDeviceInclude: include } = ctx.options;
        const devs = parseNetDev(await readText(ctx.options.procfs, 'net', 'dev')).filter(
          (d) => !exclude?.test(d.device) && (!include || include.test(d.device)),
        );
        for (const [counter, metric] of metrics) {
          const samples: ConstSample[] = [];
          for (const d of devs) {
            const v = d.counters[counter];
            if (v !== undefined) samples.push({ labels: { device: d.device }, value: v });
          }
          metric.set(samples);
        }
      },
    };
  },
};
