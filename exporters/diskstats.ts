/** `node_disk_*{device}` from /proc/diskstats (node_exporter's diskstats collector). */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric, type ConstSample } from './const-metric.js';
import { parseDiskstats, type DiskStats } from './procfs/diskstats.js';
import { readText } from './procfs/read.js';

/** /proc/diskstats counts 512-byte sectors whatever the device's real sector size. */
const SECTOR_BYTES = 512;

type Pick = (d: DiskStats) => number | undefined;

/** name, help, type, value: node_exporter's names and help texts. */
const SERIES: readonly [string, string, 'counter' | 'gauge', Pick][] = [
  ['node_disk_reads_completed_total', 'The total number of reads completed successfully.', 'counter', (d) => d.readsCompleted],
  ['node_disk_reads_merged_total', 'The total number of reads merged.', 'counter', (d) => d.readsMerged],
  ['node_disk_read_bytes_total', 'The total number of bytes read successfully.', 'counter', (d) => d.sectorsRead * SECTOR_BYTES],
  ['node_disk_read_time_seconds_total', 'The total number of seconds spent by all reads.', 'counter', (d) => d.readTimeMs / 1000],
  ['node_disk_writes_completed_total', 'The total number of writes completed successfully.', 'counter', (d) => d.writesCompleted],
  ['node_disk_writes_merged_total', 'The number of writes merged.', 'counter', (d) => d.writesMerged],
  ['node_disk_written_bytes_total', 'The total number of bytes written successfully.', 'counter', (d) => d.sectorsWritten * SECTOR_BYTES],
  ['node_disk_write_time_seconds_total', 'This is the total number of seconds spent by all writes.', 'counter', (d) => d.writeTimeMs / 1000],
  ['node_disk_io_now', 'The number of I/Os currently in progress.', 'gauge', (d) => d.ioNow],
  ['node_disk_io_time_seconds_total', 'Total seconds spent doing I/Os.', 'counter', (d) => d.ioTimeMs / 1000],
  ['node_disk_io_time_weighted_seconds_total', 'The weighted # of seconds spent doing I/Os.', 'counter', (d) => d.ioTimeWeightedMs / 1000],
  ['node_disk_discards_completed_total', 'The total number of discards completed successfully.', 'counter', (d) => d.discards?.completed],
  ['node_disk_discards_merged_total', 'The total number of discards merged.', 'counter', (d) => d.discards?.merged],
  ['node_disk_discarded_sectors_total', 'The total number of sectors discarded successfully.', 'counter', (d) => d.discards?.sectors],
  ['node_disk_discard_time_seconds_total', 'This is the total number of seconds spent by all discards.', 'counter', (d) => (d.discards ? d.discards.timeMs / 1000 : undefined)],
  ['node_disk_flush_requests_total', 'The total number of flush requests completed successfully', 'counter', (d) => d.flush?.completed],
  ['node_disk_flush_requests_time_seconds_total', 'This is the total number of seconds spent by all flush requests.', 'counter', (d) => (d.flush ? d.flush.timeMs / 1000 : undefined)],
];

/** node_exporter's `diskstats` collector, honouring the device include/exclude patterns. */
export const diskstatsCollector: CollectorDefinition = {
  name: 'diskstats',
  defaultEnabled: true,
  create(ctx) {
    const metrics = SERIES.map(([name, help, type, pick]) => ({ metric: new ConstMetric(ctx.registry, { name, help, type }), pick }));
    const info = new ConstMetric(ctx.registry, { name: 'node_disk_info', help: 'Info of /sys/block/<block_device>.' });
    return {
      async update() {
        const { diskDeviceExclude: exclude, diskDeviceInclude: include } = ctx.options;
        const disks = parseDiskstats(await readText(ctx.options.procfs, 'diskstats')).filter(
          (d) => !exclude?.test(d.device) && (!include || include.test(d.device)),
        );
        for (const { metric, pick } of metrics) {
          const samples: ConstSample[] = [];
          for (const d of disks) {
            const v = pick(d);
            if (v !== undefined) samples.push({ labels: { device: d.device }, value: v });
          }
          metric.set(samples);
        }
        info.set(disks.map((d) => ({ labels: { device: d.device, major: d.major, minor: d.minor }, value: 1 })));
      },
    };
  },
};
