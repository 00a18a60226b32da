/** `node_filefd_allocated` and `node_filefd_maximum` from /proc/sys/fs/file-nr. */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { fields, num, readText } from './procfs/read.js';

/** Parses file-nr: `allocated  unused(always 0)  maximum`. */
export function parseFileNr(text: string): { allocated: number; maximum: number } {
  const f = fields(text);
  return { allocated: num(f[0], '/proc/sys/fs/file-nr'), maximum: num(f[2], '/proc/sys/fs/file-nr') };
}

/** node_exporter's `filefd` collector. */
export const filefdCollector: CollectorDefinition = {
  name: 'filefd',
  defaultEnabled: true,
  create(ctx) {
    const allocated = new ConstMetric(ctx.registry, { name: 'node_filefd_allocated', help: 'File descriptor statistics: allocated.' });
    const maximum = new ConstMetric(ctx.registry, { name: 'node_filefd_maximum', help: 'File descriptor statistics: maximum.' });
    return {
      async update() {
        const n = parseFileNr(await readText(ctx.options.procfs, 'sys', 'fs', 'file-nr'));
        allocated.setValue(n.allocated);
        maximum.setValue(n.maximum);
      },
    };
  },
};
