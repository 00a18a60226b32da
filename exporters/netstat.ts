/** `node_netstat_<Protocol>_<Field>` from /proc/net/{netstat,snmp,snmp6}, node_exporter's default field selection. */
import type { CollectorDefinition } from './collector.js';
import { DynamicFamilies } from './dynamic-metrics.js';
import { parseNetstatPairs, parseSnmp6, type NetStat } from './procfs/netstat.js';
import { readOptional, readText } from './procfs/read.js';

/** node_exporter's `--collector.netstat.fields` default. */
export const NETSTAT_FIELDS =
  /^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$/;

/** node_exporter's `netstat` collector (untyped there too: some are counters, some gauges). */
export const netstatCollector: CollectorDefinition = {
  name: 'netstat',
  defaultEnabled: true,
  create(ctx) {
    const families = new DynamicFamilies(ctx.registry);
    return {
      async update() {
        const procfs = ctx.options.procfs;
        const [netstat, snmp, snmp6] = await Promise.all([
          readText(procfs, 'net', 'netstat'),
          readText(procfs, 'net', 'snmp'),
          readOptional(procfs, 'net', 'snmp6'), // absent without IPv6
        ]);
        const all: NetStat[] = [...parseNetstatPairs(netstat), ...parseNetstatPairs(snmp), ...(snmp6 === undefined ? [] : parseSnmp6(snmp6))];
        const seen = new Set<string>();
        const kept = all.filter((s) => {
          const key = `${s.protocol}_${s.name}`;
          if (seen.has(key) || !NETSTAT_FIELDS.test(key)) return false;
          seen.add(key);
          return true;
        });
        families.replace(
          kept.map((s) => ({
            name: `node_netstat_${s.protocol}_${s.name}`,
            help: `Statistic ${s.protocol}${s.name}.`,
            type: 'untyped',
            samples: [{ name: `node_netstat_${s.protocol}_${s.name}`, labels: {}, value: s.value }],
          })),
        );
      },
      dynamicMetrics: () => families.names(),
    };
  },
};
